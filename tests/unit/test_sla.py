"""SLA policy: the defaults from local practice, rule precedence, and malformed files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gridbot.models.enums import DeadlineKind, Priority, TicketKind
from gridbot.models.settings import SLASettings
from gridbot.models.tickets.sla import (
    DEFAULT_POLICY_FILE,
    Basis,
    DeadlineSpec,
    SLAPolicyError,
    load_policy,
    load_policy_for,
)

POLICY = load_policy()
FR, FB, RES = DeadlineKind.FIRST_RESPONSE, DeadlineKind.FEEDBACK, DeadlineKind.RESOLUTION
WD = timedelta(hours=7, minutes=30)


def test_urgent_beats_kind_and_counts_calendar_time() -> None:
    rule = POLICY.rule_for(TicketKind.INCIDENT, "safety", Priority.URGENT)
    assert dict(rule.deadlines) == {
        FR: DeadlineSpec(timedelta(minutes=10), Basis.CALENDAR),
        RES: DeadlineSpec(timedelta(hours=4), Basis.CALENDAR),
    }


def test_normal_incident_and_request_defaults() -> None:
    inc = POLICY.rule_for(TicketKind.INCIDENT, "property", Priority.NORMAL).deadlines
    assert inc[FR] == DeadlineSpec(timedelta(hours=1), Basis.WORKING)
    assert inc[FB] == DeadlineSpec(WD, Basis.WORKING)
    assert inc[RES] == DeadlineSpec(3 * WD, Basis.WORKING)
    req = POLICY.rule_for(TicketKind.REQUEST, "certificates", Priority.NORMAL).deadlines
    assert set(req) == {FR, RES} and req[RES] == DeadlineSpec(5 * WD, Basis.WORKING)


def test_category_rule_is_more_specific_than_kind(tmp_path: Path) -> None:
    text = DEFAULT_POLICY_FILE.read_text(encoding="utf-8") + (
        "  - match: {kind: incident, category: noise}\n    resolution: 2h\n"
    )
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    policy = load_policy(path)
    assert dict(policy.rule_for(TicketKind.INCIDENT, "noise", Priority.NORMAL).deadlines) == {
        RES: DeadlineSpec(timedelta(hours=2), Basis.CALENDAR)
    }
    # urgent still wins over the category rule
    assert FR in policy.rule_for(TicketKind.INCIDENT, "noise", Priority.URGENT).deadlines


def test_ladder_instants_follow_the_ratios() -> None:
    start = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)  # Tuesday 09:00 in Shanghai
    s = POLICY.schedule(DeadlineSpec(timedelta(minutes=10), Basis.CALENDAR), start)
    assert (s.warn_at, s.due_at, s.escalate1_at, s.escalate2_at) == (
        start + timedelta(minutes=8),
        start + timedelta(minutes=10),
        start + timedelta(minutes=15),
        start + timedelta(minutes=20),
    )


def test_working_time_escalation_has_floors_so_a_one_hour_miss_does_not_reach_the_street_at_once() -> None:
    start = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)  # Tuesday 09:00 in Shanghai
    s = POLICY.schedule(DeadlineSpec(timedelta(hours=1), Basis.WORKING), start)
    assert s.due_at == start + timedelta(hours=1)
    # community 2 working hours after due (10:00 → 12:00), street a working day after due
    assert s.escalate1_at == datetime(2026, 3, 10, 4, 0, tzinfo=UTC)  # 12:00 local, not 10:30
    assert s.escalate2_at == datetime(2026, 3, 11, 2, 0, tzinfo=UTC)  # Wednesday 10:00 local
    assert POLICY.quiet == timedelta(minutes=30)


def test_settings_select_the_policy_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(DEFAULT_POLICY_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    assert load_policy_for(SLASettings(policy_file=path)).source == str(path)
    assert load_policy_for(SLASettings()).source == str(DEFAULT_POLICY_FILE)


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    text = DEFAULT_POLICY_FILE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "broken.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _line(path: Path, needle: str) -> int:
    return next(
        i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line
    )


@pytest.mark.parametrize(
    ("old", "new", "needle", "message"),
    [
        ("    resolution: 3wd", "    resolution: 3 weeks", "3 weeks", "bad duration"),
        ("    feedback: 1wd", "    feedbak: 1wd", "feedbak", "Extra inputs"),
        ("  - match: {kind: request}", "  - match: {kind: complaint}", "complaint", "kind"),
        (
            "  - match: {kind: request}",
            "  - match: {kind: request, category: parking}",
            "parking",
            "unknown category",
        ),
        ("    - 2026-05-09 ", "    - 2026-05-32 ", "2026-05-32", "bad date"),
        ('working_hours: ["09:00-12:00"', 'working_hours: ["9h-12h"', "9h-12h", "working period"),
        ("    4: [street_admin]", "    4: [mayor]", "mayor", "recipients"),
    ],
)
def test_malformed_file_names_the_line(tmp_path: Path, old: str, new: str, needle: str, message: str) -> None:
    path = _broken(tmp_path, old, new)
    with pytest.raises(SLAPolicyError, match=message) as info:
        load_policy(path)
    assert info.value.line == _line(path, needle)
    assert f"{path}, line {info.value.line}" in str(info.value)


def test_bad_yaml_names_the_line(tmp_path: Path) -> None:
    path = _broken(tmp_path, "    first_response: 10m", "    first_response: [10m")
    with pytest.raises(SLAPolicyError, match="not valid YAML") as info:
        load_policy(path)
    assert info.value.line is not None and info.value.line >= _line(path, "[10m")


def test_duplicate_match_and_missing_coverage(tmp_path: Path) -> None:
    path = _broken(tmp_path, "  - match: {kind: request}", "  - match: {kind: incident}")
    with pytest.raises(SLAPolicyError, match="same match as the rule on line") as info:
        load_policy(path)
    assert info.value.line == _line(path, "- match: {kind: incident}") + 4
    path = _broken(tmp_path, "  - match: {kind: request}", "  - match: {kind: request, priority: urgent}")
    with pytest.raises(SLAPolicyError, match="no rule covers kind=request priority=normal"):
        load_policy(path)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SLAPolicyError, match="cannot read"):
        load_policy(tmp_path / "nope.yaml")


def test_the_shipped_yaml_reads_the_same_through_libyaml() -> None:
    """Start-up parses the bundled files with libyaml; they must give what the pure-Python parser gives."""
    import yaml

    from gridbot.models.tickets import sla
    from gridbot.nlp import features, taxonomy

    for path in (taxonomy.DEFAULT_TAXONOMY_PATH, features.LEXICON_PATH):
        text = path.read_text(encoding="utf-8")
        assert taxonomy.load_yaml(text) == yaml.safe_load(text)
    text = sla.DEFAULT_POLICY_FILE.read_text(encoding="utf-8")
    root, data = sla._parse(text)
    assert data == yaml.load(text, Loader=sla._Loader)  # noqa: S506 (a SafeLoader)
    assert root is not None and isinstance(data["rules"][0]["match"], dict)
