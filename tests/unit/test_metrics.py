"""Pure parts of the metrics: periods, scopes, percentiles and rates (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from gridbot.models.metrics import GridMetrics, Period, Scope
from gridbot.models.metrics.report import percentile, ratio


def test_a_local_month_is_half_open_in_utc() -> None:
    march = Period.local_month(2026, 3)
    assert march.start == datetime(2026, 2, 28, 16, tzinfo=UTC)
    assert march.end == datetime(2026, 3, 31, 16, tzinfo=UTC)
    december = Period.local_month(2025, 12)
    assert december.end == datetime(2025, 12, 31, 16, tzinfo=UTC)
    assert len(march.days()) == 31 and march.days()[0] == date(2026, 3, 1)


def test_days_of_a_partial_period_in_local_time() -> None:
    # 15:00Z on 1 March is 23:00 local; 17:00Z is 01:00 on 2 March
    p = Period(datetime(2026, 3, 1, 15, tzinfo=UTC), datetime(2026, 3, 1, 17, tzinfo=UTC))
    assert p.days() == [date(2026, 3, 1), date(2026, 3, 2)]
    assert Period(p.start, p.start).days() == []


def test_bad_periods_and_scopes_are_refused() -> None:
    now = datetime(2026, 3, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="timezone-aware"):
        Period(datetime(2026, 3, 1), now)
    with pytest.raises(ValueError, match="before its start"):
        Period(now, now - timedelta(seconds=1))
    with pytest.raises(ValueError, match="exactly one"):
        Scope()
    with pytest.raises(ValueError, match="end with"):
        Scope.region("/1/4")


def test_percentile_interpolates_like_percentile_cont() -> None:
    values = [7200.0, 300.0, 1200.0, 600.0, 3600.0, 1800.0]
    assert percentile(values, 0.5) == 1500.0
    assert percentile(values, 0.9) == pytest.approx(5400.0)
    assert percentile([42.0], 0.9) == 42.0
    assert percentile([], 0.5) is None


def test_rates_never_divide_by_zero() -> None:
    assert ratio(3, 0) is None and ratio(0, 4) == 0.0
    idle = GridMetrics(grid_id=1, grid_code="G", grid_name="g", households=0)
    rates = (
        idle.response_rate,
        idle.first_response_on_time_rate,
        idle.resolution_rate,
        idle.on_time_resolution_rate,
        idle.satisfaction_rate,
        idle.reopen_rate,
        idle.membership_rate,
    )
    assert rates == (None,) * 7
    busy = GridMetrics(
        grid_id=1, grid_code="G", grid_name="g", households=300, members=240, received=5, resolved=3
    )
    assert (busy.membership_rate, busy.resolution_rate) == (0.8, 0.6)
