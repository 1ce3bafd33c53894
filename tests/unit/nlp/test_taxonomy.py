from __future__ import annotations

from pathlib import Path

import pytest

from gridbot.nlp.taxonomy import TaxonomyError, load_taxonomy


def test_default_taxonomy() -> None:
    tax = load_taxonomy()
    assert tax.kind_ids == ["incident", "request", "chatter"]
    assert len(tax.categories_of("incident")) == 8
    assert len(tax.categories_of("request")) == 7
    assert tax.label("property") == "物业服务"
    assert tax.non_actionable_kind == "chatter"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("物业服务", "property"),
        ("【治安消防】", "safety"),
        ("noise", "noise"),
        ("不存在", None),
        ("chatter", None),
    ],
)
def test_reverse_lookup(given: str, expected: str | None) -> None:
    assert load_taxonomy().category_id(given) == expected


def test_every_label_round_trips() -> None:
    tax = load_taxonomy()
    for cat in tax.category_ids:
        assert tax.category_id(tax.label(cat)) == cat


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("kinds: [", "not valid YAML"),
        ("- just a list", "top level must be a mapping"),
        ("kinds: {}\ncategories: {}\npriorities: {}", "'kinds' must be a non-empty mapping"),
        (
            "kinds: {incident: {label: 问题}, chatter: {label: 闲聊, actionable: false}}\n"
            "categories: {noise: {label: 噪音, kind: request}}\npriorities: {urgent: {label: 紧急}, normal: {label: 一般}}",
            "categories.noise.kind 'request'",
        ),
        (
            "kinds: {incident: {label: 问题}, chatter: {label: 闲聊, actionable: false}}\n"
            "categories: {noise: {kind: incident}}\npriorities: {urgent: {label: 紧急}, normal: {label: 一般}}",
            "categories.noise needs a non-empty 'label'",
        ),
    ],
)
def test_malformed_file_names_file_and_problem(tmp_path: Path, body: str, problem: str) -> None:
    path = tmp_path / "my_taxonomy.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(TaxonomyError) as info:
        load_taxonomy(path)
    assert str(path) in str(info.value)
    assert problem in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TaxonomyError, match="cannot read"):
        load_taxonomy(tmp_path / "nope.yaml")
