"""The bot's in-process figures (messages processed by outcome, classification time), recorded once
Prometheus metrics exist in this process.

`gridbot.models.telemetry` creates them when it is imported: by the API, and by the bot when it
serves them on GRIDBOT_BOT_METRICS_PORT. A bot without that port has no one to read them, so it
neither imports prometheus_client (20 ms of its start-up) nor counts.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

_processed: Any = None  # prometheus_client.Counter labelled by outcome
_classification: Any = None  # prometheus_client.Histogram


def install(processed: Any, classification: Any) -> None:
    """Record into these metrics from now on (called by `gridbot.models.telemetry` on import)."""
    global _processed, _classification
    _processed, _classification = processed, classification


def count_processed(outcome: str) -> None:
    """One message handled with this outcome."""
    if _processed is not None:
        _processed.labels(outcome).inc()


def timing_classification() -> AbstractContextManager[Any]:
    """Time one classification (a no-op without metrics)."""
    return _classification.time() if _classification is not None else nullcontext()
