"""The classify/train/eval commands through Typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from gridbot import cli_nlp


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    cli_nlp.register(app)
    return app


def run(app: typer.Typer, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_classify_one_message(app: typer.Typer, small_model_dir: Path) -> None:
    code, out, _ = run(app, "classify", "3栋着火了，好多烟，快来人", "--model", str(small_model_dir))
    assert code == 0
    lines = out.strip().splitlines()
    assert len(lines) == 1
    row = json.loads(lines[0])
    assert row["priority"] == "urgent" and "fire" in row["urgency_cues"]
    assert {"kind", "category", "confidence", "needs_review"} <= set(row)


def test_classify_file_round_trip(app: typer.Typer, small_model_dir: Path, tmp_path: Path) -> None:
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    rows = [{"id": "a", "text": "收到"}, {"id": "b", "text": "小区门口窨井盖没了"}, {"id": 3, "text": ""}]
    src.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    code, _, _ = run(
        app, "classify", "--input", str(src), "--output", str(dst), "--model", str(small_model_dir)
    )
    assert code == 0
    out = [json.loads(line) for line in dst.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in out] == ["a", "b", 3]
    assert all({"kind", "category", "priority", "confidence", "needs_review"} <= set(r) for r in out)


def test_bad_json_line_exits_2_with_line_number(
    app: typer.Typer, small_model_dir: Path, tmp_path: Path
) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": 1, "text": "好的"}\n{oops\n', encoding="utf-8")
    code, _, err = run(app, "classify", "--input", str(src), "--model", str(small_model_dir))
    assert code == 2
    assert f"{src}:2" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["classify", "--input", "/nonexistent/in.jsonl"], "input file not found"),
        (["classify"], "give either"),
        (["classify", "hi", "--model", "/nonexistent/model"], "model directory not found"),
        (["eval", "--data", "/nonexistent/test.jsonl"], "data file not found"),
        (["train", "--data", "/nonexistent/train.jsonl", "--out", "/tmp/x"], "data file not found"),
    ],
)
def test_user_errors_exit_2(app: typer.Typer, args: list[str], message: str) -> None:
    code, _, err = run(app, *args)
    assert code == 2
    assert message in err


def test_train_then_eval_flat_labels(app: typer.Typer, tmp_path: Path) -> None:
    data = tmp_path / "mine.jsonl"
    rows = [
        (f"{w}坏了第{i}次", "维修")
        for i, w in enumerate(["水管", "电灯", "门锁", "窗户", "电梯", "水龙头"] * 3)
    ]
    rows += [
        (f"请问{w}怎么办理{i}", "咨询")
        for i, w in enumerate(["户口", "社保", "医保", "证明", "护照", "驾照"] * 3)
    ]
    data.write_text(
        "\n".join(json.dumps({"text": t, "label": lab}, ensure_ascii=False) for t, lab in rows),
        encoding="utf-8",
    )
    out = tmp_path / "model"
    code, stdout, err = run(
        app, "train", "--data", str(data), "--label-field", "label", "--out", str(out), "--json"
    )
    assert code == 0, err
    report = json.loads(stdout)
    assert report["label"]["n"] == 8 and "macro_f1" in report["label"]
    assert "stratified" in err  # progress goes to stderr
    code, stdout, _ = run(app, "eval", "--data", str(data), "--label-field", "label", "--model", str(out))
    assert code == 0
    assert "== label: accuracy" in stdout and "confusion" in stdout


def test_eval_default_split_json(app: typer.Typer, cli_env: dict[str, str], tmp_path: Path) -> None:
    plot = tmp_path / "reliability.svg"
    code, stdout, err = run(app, "eval", "--json", "--plot", str(plot))
    assert code == 0, err
    reports = json.loads(stdout)
    sets = ("shipped test split", "independent set", "blind set")
    assert set(sets) <= set(reports)
    for name in sets:
        report = reports[name]
        for level in ("kind", "category", "priority"):
            assert {"accuracy", "macro_f1", "per_class", "confusion"} <= set(report[level])
        for key in ("chatter_predicted_actionable", "urgent_recall", "urgent_precision", "false_urgent_rate"):
            assert 0.0 <= report[key] <= 1.0
    baseline = next(v for k, v in reports.items() if k.startswith("plain baseline"))
    assert set(baseline) == set(sets)
    svg = plot.read_text(encoding="utf-8")
    assert svg.startswith("<svg") and "independent set" in svg and svg.count("<polyline") == len(sets)
