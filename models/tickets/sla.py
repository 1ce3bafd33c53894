"""SLA policy: deadlines per kind, category and priority, the escalation ladder and the work calendar.

Loaded from YAML (models/sla_default.yaml unless `Settings.sla.policy_file` names another file).
A malformed file raises SLAPolicyError naming the file and the line.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from gridbot.models.enums import DeadlineKind, Priority, TicketKind
from gridbot.models.settings import SLASettings
from gridbot.models.tickets.calendar import WorkCalendar, expand_dates

DEFAULT_POLICY_FILE = Path(__file__).with_name("sla_default.yaml")
LEVELS = (1, 2, 3, 4)  # 1 warning to the assignee, 2 breach → grid leader, 3 community, 4 street
Recipient = Literal[
    "assignee", "gridworkers", "grid_leader", "community_admin", "street_admin", "district_admin"
]
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|h|d|wm|wh|wd)\s*$")
_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


class SLAPolicyError(ValueError):
    """The SLA policy file is malformed; the message names the file and the line."""

    def __init__(self, source: str, line: int | None, message: str) -> None:
        where = f"{source}, line {line}" if line else source
        super().__init__(f"SLA policy {where}: {message}")
        self.source, self.line = source, line


class Basis(StrEnum):
    """Whether a deadline counts every minute or only working time."""

    CALENDAR = "calendar"
    WORKING = "working"


@dataclass(frozen=True)
class DeadlineSpec:
    """How long one deadline allows, and in which time basis."""

    allowance: timedelta
    basis: Basis


@dataclass(frozen=True)
class Schedule:
    """The instants of one deadline: warning (80 %), due, +50 % and +100 % past due."""

    warn_at: datetime
    due_at: datetime
    escalate1_at: datetime
    escalate2_at: datetime

    def at_level(self, level: int) -> datetime:
        """The instant ladder level 1–4 fires."""
        return (self.warn_at, self.due_at, self.escalate1_at, self.escalate2_at)[level - 1]


@dataclass(frozen=True)
class SLARule:
    """One rule of the file; unset match fields match anything."""

    kind: TicketKind | None
    category: str | None
    priority: Priority | None
    deadlines: Mapping[DeadlineKind, DeadlineSpec]
    line: int

    @property
    def specificity(self) -> int:
        """Priority outranks category outranks kind, so an urgent rule beats a category rule."""
        return (4 if self.priority else 0) + (2 if self.category else 0) + (1 if self.kind else 0)

    def matches(self, kind: TicketKind, category: str, priority: Priority) -> bool:
        """Whether every set field equals the ticket's."""
        return (
            (self.kind is None or self.kind == kind)
            and (self.category is None or self.category == category)
            and (self.priority is None or self.priority == priority)
        )


@dataclass(frozen=True)
class SLAPolicy:
    """The loaded policy; pure (no I/O after loading)."""

    source: str
    calendar: WorkCalendar
    rules: tuple[SLARule, ...]
    warn_ratio: float
    escalate1_ratio: float
    escalate2_ratio: float
    recipients: Mapping[int, tuple[Recipient, ...]]
    category_labels: Mapping[str, str]
    # working-time floors past the due instant for levels 3 and 4 (zero: none); they keep a
    # one-hour first-response miss from reaching the street within the hour
    escalate1_floor: timedelta = timedelta()
    escalate2_floor: timedelta = timedelta()
    quiet: timedelta = timedelta()  # a person's non-urgent digests at most once per this period
    # categories whose tickets need a 处置后照片 before 办结 (the `closing.photo_required` key)
    photo_required: frozenset[str] = frozenset()

    def rule_for(self, kind: TicketKind, category: str, priority: Priority) -> SLARule:
        """The most specific matching rule (loading guarantees one matches every kind × priority)."""
        best = max(
            (r for r in self.rules if r.matches(kind, category, priority)),
            key=lambda r: r.specificity,
            default=None,
        )
        if best is None:
            raise LookupError(f"no SLA rule for {kind}/{category}/{priority} in {self.source}")
        return best

    def advance(self, start: datetime, amount: timedelta, basis: Basis) -> datetime:
        """`start` plus `amount` of calendar or working time."""
        return start + amount if basis is Basis.CALENDAR else self.calendar.add(start, amount)

    def elapsed(self, start: datetime, end: datetime, basis: Basis) -> timedelta:
        """Calendar or working time from `start` to `end` (negative when `end` is earlier)."""
        return end - start if basis is Basis.CALENDAR else self.calendar.between(start, end)

    def schedule(self, spec: DeadlineSpec, start: datetime) -> Schedule:
        """The ladder instants of a deadline started at `start`."""
        a, b = spec.allowance, spec.basis
        due = self.advance(start, a, b)
        e1, e2 = a * self.escalate1_ratio, a * self.escalate2_ratio
        if b is Basis.WORKING:  # calendar-time (urgent) deadlines escalate at their own pace
            e1, e2 = max(e1, self.escalate1_floor), max(e2, self.escalate2_floor)
        return Schedule(
            warn_at=self.advance(start, a * self.warn_ratio, b),
            due_at=due,
            escalate1_at=self.advance(due, e1, b),
            escalate2_at=self.advance(due, e2, b),
        )

    def category_label(self, code: str) -> str:
        """The Chinese label of a category code (the code itself when unknown)."""
        return self.category_labels.get(code, code)


# ---- the file schema (pydantic) ----------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_date(text: str) -> str:
    _date_range(text)
    return text


_DateText = Annotated[str, AfterValidator(_check_date)]  # a date or a "first..last" range


class _CalendarFile(_Strict):
    timezone: str | None = None
    working_hours: list[str] = Field(default_factory=lambda: ["09:00-12:00", "13:30-18:00"])
    weekend: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = ["sat", "sun"]
    holidays: list[_DateText] = Field(default_factory=list)
    workdays: list[_DateText] = Field(default_factory=list)

    @field_validator("working_hours")
    @classmethod
    def _hours(cls, v: list[str]) -> list[str]:
        for item in v:
            m = _HOURS.match(item)
            if not m or int(m[1]) > 23 or int(m[3]) > 24 or int(m[2]) > 59 or int(m[4]) > 59:
                raise ValueError(f"bad working period {item!r}: use 'HH:MM-HH:MM'")
        return v


class _Match(_Strict):
    kind: TicketKind | None = None
    category: str | None = None
    priority: Priority | None = None


class _Rule(_Strict):
    match: _Match = Field(default_factory=_Match)
    first_response: str | None = None
    feedback: str | None = None
    resolution: str | None = None

    @field_validator("first_response", "feedback", "resolution")
    @classmethod
    def _duration(cls, v: str | None) -> str | None:
        if v is not None and not _DURATION.match(str(v)):
            raise ValueError(
                f"bad duration {v!r}: a number and a unit, m/h/d (calendar time) or wm/wh/wd (working time)"
            )
        return v


class _Escalation(_Strict):
    warn_ratio: float = Field(0.8, gt=0, lt=1)
    escalate1_ratio: float = Field(0.5, gt=0)
    escalate2_ratio: float = Field(1.0, gt=0)
    escalate1_floor: str | None = None
    escalate2_floor: str | None = None
    quiet_minutes: int = Field(0, ge=0)
    recipients: dict[Literal[1, 2, 3, 4], list[Recipient]]

    @field_validator("escalate1_floor", "escalate2_floor")
    @classmethod
    def _working_duration(cls, v: str | None) -> str | None:
        m = _DURATION.match(str(v)) if v is not None else None
        if v is not None and (m is None or not m[2].startswith("w")):
            raise ValueError(f"bad floor {v!r}: a working-time duration such as 2wh or 1wd")
        return v


class _Closing(_Strict):
    photo_required: list[str] = Field(default_factory=list)


class _PolicyFile(_Strict):
    version: int = 1
    categories: dict[str, str]
    closing: _Closing = Field(default_factory=_Closing)
    calendar: _CalendarFile = Field(default_factory=_CalendarFile)
    escalation: _Escalation
    rules: list[_Rule] = Field(min_length=1)


def _date_range(text: str) -> tuple[date, date]:
    first, sep, last = text.partition("..")
    try:
        a, b = date.fromisoformat(first.strip()), date.fromisoformat((last if sep else first).strip())
    except ValueError:
        raise ValueError(f"bad date {text!r}: use YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD") from None
    if b < a:
        raise ValueError(f"date range {text!r} ends before it starts")
    return a, b


# ---- loading ------------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """Safe YAML, with dates left as strings so a bad date becomes a line-numbered error here."""

    yaml_implicit_resolvers = {
        first: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


class _FastLoader(getattr(yaml, "CSafeLoader", _Loader)):  # type: ignore[misc]
    """_Loader's rules on libyaml (a tenth of the time); without libyaml, _Loader itself."""

    yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers


def _parse(text: str) -> tuple[yaml.Node | None, Any]:
    """The node tree (for line numbers) and the data; a document libyaml refuses is read again by the
    pure-Python parser, so its error (or acceptance) is the same as before."""
    try:
        return yaml.compose(text, Loader=_FastLoader), yaml.load(text, Loader=_FastLoader)  # noqa: S506
    except yaml.YAMLError:
        return yaml.compose(text, Loader=_Loader), yaml.load(text, Loader=_Loader)  # noqa: S506


def load_policy(path: Path | None = None, *, timezone: str = "Asia/Shanghai") -> SLAPolicy:
    """Load and validate a policy file (the bundled default when `path` is None)."""
    path = path or DEFAULT_POLICY_FILE
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SLAPolicyError(source, None, f"cannot read the file: {exc.strerror}") from None
    try:
        root, data = _parse(text)  # _Loader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise SLAPolicyError(source, line, f"not valid YAML: {exc.problem or exc}") from None
    if not isinstance(data, dict):
        raise SLAPolicyError(source, 1, "expected a mapping at the top level")
    try:
        parsed = _PolicyFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        message = str(err["msg"]).removeprefix("Value error, ")
        raise SLAPolicyError(source, _line_of(root, err["loc"]), f"{loc}: {message}") from None
    return _build(parsed, source, root, timezone)


def load_policy_for(settings: SLASettings) -> SLAPolicy:
    """The policy `Settings.sla` selects, with the years of the holiday file (if any) merged in."""
    policy = load_policy(settings.policy_file, timezone=settings.timezone)
    path = settings.holidays_file
    if path is None or not path.exists():
        return policy
    from gridbot.models.tickets.holidays import HolidayFileError, apply_years, read_holiday_file

    try:
        years = read_holiday_file(path)
    except HolidayFileError as exc:
        raise SLAPolicyError(str(path), None, str(exc)) from None
    return dataclasses.replace(policy, calendar=apply_years(policy.calendar, years))


def _build(f: _PolicyFile, source: str, root: yaml.Node | None, default_tz: str) -> SLAPolicy:
    def fail(loc: tuple[Any, ...], message: str) -> SLAPolicyError:
        return SLAPolicyError(source, _line_of(root, loc), message)

    tz_name = f.calendar.timezone or default_tz
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise fail(("calendar", "timezone"), f"unknown time zone {tz_name!r}") from None
    periods = []
    for item in f.calendar.working_hours:
        m = _HOURS.match(item)
        assert m is not None  # validated by the schema
        end = time(23, 59, 59, 999999) if int(m[3]) == 24 else time(int(m[3]), int(m[4]))
        periods.append((time(int(m[1]), int(m[2])), end))
    try:
        cal = WorkCalendar(
            tz=tz,
            periods=tuple(periods),
            weekend=frozenset(_WEEKDAYS[d] for d in f.calendar.weekend),
            holidays=expand_dates(_date_range(d) for d in f.calendar.holidays),
            workdays=expand_dates(_date_range(d) for d in f.calendar.workdays),
        )
    except ValueError as exc:
        raise fail(("calendar", "working_hours"), str(exc)) from None
    if cal.day_length <= timedelta():
        raise fail(("calendar", "working_hours"), "no working hours in a day")
    rules: list[SLARule] = []
    seen: dict[tuple[Any, ...], int] = {}
    for i, r in enumerate(f.rules):
        m_ = r.match
        if m_.category is not None and m_.category not in f.categories:
            known = ", ".join(sorted(f.categories))
            raise fail(
                ("rules", i, "match", "category"), f"unknown category {m_.category!r} (known: {known})"
            )
        key = (m_.kind, m_.category, m_.priority)
        line = _line_of(root, ("rules", i)) or 0
        if key in seen:
            raise fail(("rules", i, "match"), f"same match as the rule on line {seen[key]}")
        seen[key] = line
        specs = {
            kind: _spec(getattr(r, kind.value), cal.day_length)
            for kind in DeadlineKind
            if getattr(r, kind.value) is not None
        }
        if not specs:
            raise fail(("rules", i), "a rule needs at least one deadline")
        rules.append(SLARule(m_.kind, m_.category, m_.priority, specs, line))
    for kind in TicketKind:
        for prio in Priority:
            if not any(r.category is None and r.matches(kind, "", prio) for r in rules):
                raise fail(("rules",), f"no rule covers kind={kind.value} priority={prio.value}")
    for i, code in enumerate(f.closing.photo_required):
        if code not in f.categories:
            raise fail(("closing", "photo_required", i), f"unknown category {code!r}")
    missing = set(LEVELS) - set(f.escalation.recipients)
    if missing:
        raise fail(("escalation", "recipients"), f"no recipients for levels {sorted(missing)}")
    return SLAPolicy(
        source=source,
        calendar=cal,
        rules=tuple(rules),
        warn_ratio=f.escalation.warn_ratio,
        escalate1_ratio=f.escalation.escalate1_ratio,
        escalate2_ratio=f.escalation.escalate2_ratio,
        recipients={lvl: tuple(who) for lvl, who in f.escalation.recipients.items()},
        category_labels=dict(f.categories),
        escalate1_floor=_floor(f.escalation.escalate1_floor, cal.day_length),
        escalate2_floor=_floor(f.escalation.escalate2_floor, cal.day_length),
        quiet=timedelta(minutes=f.escalation.quiet_minutes),
        photo_required=frozenset(f.closing.photo_required),
    )


def _floor(text: str | None, day_length: timedelta) -> timedelta:
    return _spec(text, day_length).allowance if text else timedelta()


def _spec(text: str, day_length: timedelta) -> DeadlineSpec:
    m = _DURATION.match(text)
    assert m is not None  # validated by the schema
    n, unit = float(m[1]), m[2]
    if unit == "wd":
        return DeadlineSpec(day_length * n, Basis.WORKING)
    base = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}[unit.lstrip("w")]
    return DeadlineSpec(base * n, Basis.WORKING if unit.startswith("w") else Basis.CALENDAR)


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...] | list[Any]) -> int | None:
    """The 1-based line of the deepest node a pydantic error location reaches."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if str(key.value) == str(part):
                    line, node = key.start_mark.line + 1, value
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line
