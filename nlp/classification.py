"""What a classifier returns (a Classification, with why it needs review) and the protocol of both backends."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

# A live danger cue on a message the chatter head calls chatter: never dropped, filed urgent and held for a human.
REVIEW_LIVE_CUE = "live_cue_over_chatter"
REVIEW_LOW_CONFIDENCE = "low_confidence"
# Urgent by the priority head alone, with no live danger cue in any clause: most false alarms are these (issue 14),
# and so are some real emergencies told in words the lexicon lacks. The staff hear it privately at once; the group
# hears the alarm only when a person confirms it (改级 紧急), so a wrong guess never becomes a public alarm.
REVIEW_URGENT_NO_CUE = "urgent_without_cue"


@dataclass(frozen=True)
class Classification:
    """What a message is: kind, category (None for chatter), priority, calibrated confidence and alternatives.

    needs_review: a human should confirm before anything public happens (low confidence, or a live danger cue the
    text model called chatter; review_reason says which). is_question: the message asks for information rather
    than reporting a problem (a request to answer, not a fault to dispatch).
    """

    kind: str
    category: str | None
    priority: str
    confidence: float
    alternatives: tuple[tuple[str, float], ...]
    needs_review: bool
    urgency_cues: tuple[str, ...] = ()
    is_question: bool = False
    review_reason: str | None = None

    @property
    def label(self) -> str:
        """The finest label: category, else kind."""
        return self.category or self.kind

    @property
    def actionable(self) -> bool:
        """True for incidents and requests (anything with a category)."""
        return self.category is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {
            "kind": self.kind,
            "category": self.category,
            "priority": self.priority,
            "confidence": round(self.confidence, 4),
            "needs_review": self.needs_review,
            "review_reason": self.review_reason,
            "is_question": self.is_question,
            "alternatives": [[label, round(p, 4)] for label, p in self.alternatives],
            "urgency_cues": list(self.urgency_cues),
        }


@runtime_checkable
class Classifier(Protocol):
    """Anything that classifies messages; both backends implement it."""

    manifest: Mapping[str, Any]

    def classify(self, text: str) -> Classification:
        """Classify one message."""
        ...

    def classify_batch(self, texts: Sequence[str]) -> list[Classification]:
        """Classify many messages at once (faster than one by one)."""
        ...
