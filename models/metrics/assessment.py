"""The composite assessment score (考核得分, 0–100) under a configurable 考核办法 YAML file.

The file format is documented in models/assessment_default.yaml. Scoring is pure: it takes a
mapping of indicator values (the rates of models.metrics, and the activity figure of the rollups)
and returns the score with its breakdown, so the same method scores a grid, a community or a city.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

DEFAULT_FILE = Path(__file__).with_name("assessment_default.yaml")
MISSING_RULES = ("reweight", "zero", "full")


class AssessmentConfigError(ValueError):
    """The 考核办法 file is malformed; the message names the file and line."""


@dataclass(frozen=True)
class Indicator:
    """One weighted indicator: full marks at/better than target, none at/worse than floor."""

    key: str
    label: str
    weight: float
    target: float
    floor: float
    better: str = "higher"

    def fraction(self, value: float) -> float:
        """The share (0..1) of this indicator's weight that `value` earns."""
        span = self.target - self.floor
        got = (value - self.floor) / span
        return min(1.0, max(0.0, got))


@dataclass(frozen=True)
class Method:
    """A 考核办法: named indicators and the rule for missing values."""

    name: str
    indicators: tuple[Indicator, ...]
    missing: str = "reweight"


@dataclass(frozen=True)
class Part:
    """One indicator's line in a breakdown; `points` is None when the value is missing and left out."""

    key: str
    label: str
    value: float | None
    weight: float
    points: float | None


@dataclass(frozen=True)
class Assessment:
    """A score (None when nothing could be measured under `reweight`) and its breakdown.

    `note` states in Chinese how missing indicators were handled (empty when none was missing).
    """

    score: float | None
    parts: tuple[Part, ...]
    note: str = ""


def _points(ind: Indicator, value: float | None, missing: str) -> float | None:
    if value is None:
        return {"reweight": None, "zero": 0.0, "full": ind.weight}[missing]
    return ind.weight * ind.fraction(value)


def total(values: Mapping[str, float | None], method: Method) -> float | None:
    """The score alone (`score(values, method).score`) without its breakdown: ranking a city's grids."""
    earned = counted = 0.0
    for ind in method.indicators:
        points = _points(ind, values.get(ind.key), method.missing)
        if points is not None:
            earned += points
            counted += ind.weight
    return round(100 * earned / counted, 2) if counted else None


def score(values: Mapping[str, float | None], method: Method) -> Assessment:
    """Score indicator values under a method (see the YAML file for the rules)."""
    parts: list[Part] = []
    earned = counted = 0.0
    for ind in method.indicators:
        value = values.get(ind.key)
        points = _points(ind, value, method.missing)
        if points is not None:
            earned += points
            counted += ind.weight
        parts.append(
            Part(ind.key, ind.label, value, ind.weight, None if points is None else round(points, 2))
        )
    total = round(100 * earned / counted, 2) if counted else None
    missing = [p.label for p in parts if p.value is None]
    note = ""
    if missing and not counted:
        note = "所有指标均无数据，不计分"
    elif missing:
        how = {
            "reweight": f"不计分，其权重按比例分配给其余指标（得分 = 所得分 ÷ {counted:g} × 100）",
            "zero": "按 0 分计",
            "full": "按满分计",
        }[method.missing]
        note = f"{'、'.join(missing)}无数据，{how}"
    return Assessment(total, tuple(parts), note)


def _where(path: Path | str, node: Node) -> str:
    return f"{path}:{node.start_mark.line + 1}"


def _mapping(path: Path | str, node: Node, what: str) -> dict[str, Node]:
    if not isinstance(node, MappingNode):
        raise AssessmentConfigError(f"{_where(path, node)}: {what} must be a mapping")
    out: dict[str, Node] = {}
    for k, v in node.value:
        out[str(k.value)] = v
    return out


def _scalar(path: Path | str, node: Node, key: str, kind: type[Any]) -> Any:
    if not isinstance(node, ScalarNode):
        raise AssessmentConfigError(f"{_where(path, node)}: {key} must be a single value")
    raw = yaml.safe_load(node.value) if node.style is None else node.value
    if kind is float and isinstance(raw, int | float) and not isinstance(raw, bool):
        return float(raw)
    if kind is str and raw is not None:
        return str(raw)
    raise AssessmentConfigError(
        f"{_where(path, node)}: {key} must be a {'number' if kind is float else 'text'}, got {node.value!r}"
    )


def _indicator(path: Path | str, node: Node, known: frozenset[str] | None) -> Indicator:
    fields = _mapping(path, node, "an indicator")
    for required in ("key", "weight", "target"):
        if required not in fields:
            raise AssessmentConfigError(f"{_where(path, node)}: indicator lacks '{required}'")
    unknown = set(fields) - {"key", "label", "weight", "target", "floor", "better"}
    if unknown:
        raise AssessmentConfigError(f"{_where(path, node)}: unknown field(s) {sorted(unknown)}")
    key = _scalar(path, fields["key"], "key", str)
    if known is not None and key not in known:
        raise AssessmentConfigError(
            f"{_where(path, fields['key'])}: unknown indicator {key!r}; one of {sorted(known)}"
        )
    better = _scalar(path, fields["better"], "better", str) if "better" in fields else "higher"
    if better not in ("higher", "lower"):
        raise AssessmentConfigError(f"{_where(path, fields['better'])}: better must be 'higher' or 'lower'")
    weight = _scalar(path, fields["weight"], "weight", float)
    target = _scalar(path, fields["target"], "target", float)
    default_floor = 0.0 if better == "higher" else 2 * target or 1.0
    floor = _scalar(path, fields["floor"], "floor", float) if "floor" in fields else default_floor
    where = _where(path, node)
    if weight < 0:
        raise AssessmentConfigError(f"{where}: weight must not be negative")
    if (better == "higher" and floor >= target) or (better == "lower" and floor <= target):
        raise AssessmentConfigError(
            f"{where}: floor {floor} must be {'below' if better == 'higher' else 'above'} target {target}"
        )
    label = _scalar(path, fields["label"], "label", str) if "label" in fields else key
    return Indicator(key, label, weight, target, floor, better)


def parse_method(source: str, path: Path | str = "<string>", known: frozenset[str] | None = None) -> Method:
    """Parse a 考核办法 YAML text; AssessmentConfigError names the line of any mistake."""
    try:
        root = yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else "?"
        raise AssessmentConfigError(f"{path}:{line}: not valid YAML: {exc.problem}") from None
    if root is None:
        raise AssessmentConfigError(f"{path}:1: the file is empty")
    top = _mapping(path, root, "the file")
    if (
        "indicators" not in top
        or not isinstance(top["indicators"], SequenceNode)
        or not top["indicators"].value
    ):
        raise AssessmentConfigError(
            f"{_where(path, top.get('indicators', root))}: 'indicators' must be a non-empty list"
        )
    indicators = tuple(_indicator(path, n, known) for n in top["indicators"].value)
    missing = _scalar(path, top["missing"], "missing", str) if "missing" in top else "reweight"
    if missing not in MISSING_RULES:
        raise AssessmentConfigError(
            f"{_where(path, top['missing'])}: missing must be one of {list(MISSING_RULES)}"
        )
    if sum(i.weight for i in indicators) <= 0:
        raise AssessmentConfigError(f"{_where(path, top['indicators'])}: the weights add up to nothing")
    name = _scalar(path, top["name"], "name", str) if "name" in top else "考核办法"
    return Method(name, indicators, missing)


def load_method(path: Path | str | None = None, known: frozenset[str] | None = None) -> Method:
    """Load a 考核办法 file (the packaged default when `path` is None)."""
    file = Path(path) if path else DEFAULT_FILE
    try:
        source = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise AssessmentConfigError(f"{file}: cannot read: {exc.strerror}") from None
    return parse_method(source, file, known)
