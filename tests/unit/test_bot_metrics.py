"""The bot's in-process metrics count only once Prometheus metrics exist in the process."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram

from gridbot.models import bot_metrics


def test_without_metrics_recording_is_a_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot_metrics, "_processed", None)
    monkeypatch.setattr(bot_metrics, "_classification", None)
    bot_metrics.count_processed("ticket")
    with bot_metrics.timing_classification():
        pass


def test_installed_metrics_count_and_time(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = CollectorRegistry()
    processed = Counter("t_processed", "processed", ["outcome"], registry=registry)
    timed = Histogram("t_classification_seconds", "classification", registry=registry)
    monkeypatch.setattr(bot_metrics, "_processed", None)  # restored after the test
    monkeypatch.setattr(bot_metrics, "_classification", None)
    bot_metrics.install(processed, timed)
    bot_metrics.count_processed("ticket")
    bot_metrics.count_processed("ticket")
    with bot_metrics.timing_classification():
        pass
    assert registry.get_sample_value("t_processed_total", {"outcome": "ticket"}) == 2
    assert registry.get_sample_value("t_classification_seconds_count") == 1


def test_importing_telemetry_installs_the_bots_metrics() -> None:
    from gridbot.models import telemetry

    assert bot_metrics._processed is telemetry.MESSAGES_PROCESSED
    assert bot_metrics._classification is telemetry.CLASSIFICATION_SECONDS
