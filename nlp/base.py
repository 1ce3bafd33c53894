"""The decision rule (`decide`): from a model's probabilities and the message's cues and form to a Classification.

Both backends (nlp/fast.py, nlp/transformers_backend.py) import this module; nlp/classifier.py imports them. It
re-exports what they and the tests import with it: the result type and protocol (nlp/classification.py), the
readings of a message's form (nlp/forms.py) and the model manifests (nlp/manifest.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from gridbot.nlp.classification import (
    REVIEW_LIVE_CUE,
    REVIEW_LOW_CONFIDENCE,
    REVIEW_URGENT_NO_CUE,
    Classification,
    Classifier,
)
from gridbot.nlp.forms import (
    adds_own_report,
    asks_neighbours,
    chatter_form,
    is_information_question,
    tells_not_asks,
)
from gridbot.nlp.manifest import (
    MANIFEST,
    MODEL_FORMAT,
    MODEL_FORMAT_VERSION,
    ModelError,
    default_cache_dir,
    library_versions,
    read_manifest,
    write_manifest,
)
from gridbot.nlp.taxonomy import Taxonomy
from gridbot.nlp.urgency import UrgencyCue, active_cues, find_cues, is_news, is_over

__all__ = [
    "ANSWER_INCIDENT_MAX",
    "CHATTER_FLOOR",
    "CHATTER_FORM_MIN",
    "CUE_CATEGORY",
    "MANIFEST",
    "MODEL_FORMAT",
    "MODEL_FORMAT_VERSION",
    "NEIGHBOUR_CHATTER_MIN",
    "NEWS_CHATTER_MIN",
    "QUESTION_KEEP",
    "QUESTION_REQUEST_MIN",
    "REVIEW_LIVE_CUE",
    "REVIEW_LOW_CONFIDENCE",
    "REVIEW_THRESHOLD",
    "REVIEW_URGENT_NO_CUE",
    "TOP_K",
    "UNFLOORED_FORMS",
    "URGENT_HEAD_MIN",
    "Classification",
    "Classifier",
    "ModelError",
    "adds_own_report",
    "asks_neighbours",
    "chatter_form",
    "decide",
    "default_cache_dir",
    "is_information_question",
    "library_versions",
    "read_manifest",
    "tells_not_asks",
    "write_manifest",
]

REVIEW_THRESHOLD = 0.6
# A message stays chatter while P(chatter) >= this, unless it carries a live danger cue: a ticket for
# "收到" makes gridworkers mute the bot (chosen by 5-fold cross-validation on the corpus).
CHATTER_FLOOR = 0.45
TOP_K = 3
# An information question asked of no neighbour stays a request while the text model gives requests this much.
QUESTION_KEEP = 0.4
# Below this share of P(request) the text model is sure the question reports a problem (「…有人管吗」).
QUESTION_REQUEST_MIN = 0.1
# A forward or news about elsewhere (TAXONOMY.md rule 4) is chatter once the text model gives chatter this much.
NEWS_CHATTER_MIN = 0.02
# An ask addressed to the neighbours (TAXONOMY.md rule 2) is chatter once the text model gives chatter this much.
NEIGHBOUR_CHATTER_MIN = 0.01
# Issue 14, chatter filed as tickets: a message whose form says nobody is asked to act (forms.chatter_form) is chatter
# once the text model gives chatter this much; none outranks a live danger cue or a priority head sure of danger.
CHATTER_FORM_MIN = 0.01
# A "request" that tells where or how (forms.tells_not_asks) answers a neighbour while P(incident) stays below this.
ANSWER_INCIDENT_MAX = 0.2
# Forms plain enough to outweigh a text model sure of a topic word (社保卡, 水管): no chatter floor for these.
UNFLOORED_FORMS = frozenset({"group_ask", "recollection", "staff_notice"})

Groups = tuple[tuple[int, ...], tuple[str, ...], tuple[tuple[int, ...], ...]]
_GROUPS: dict[tuple[int, tuple[str, ...]], tuple[Taxonomy, Groups]] = {}


def _groups(labels: tuple[str, ...], taxonomy: Taxonomy) -> Groups:
    """For each final label, the index of its kind; the kind ids in that order; and each kind's labels' indices.

    Cached per taxonomy object.
    """
    cached = _GROUPS.get((id(taxonomy), labels))
    if cached is not None and cached[0] is taxonomy:  # hashing the taxonomy itself costs more than the work
        return cached[1]
    kinds = tuple(taxonomy.kind_ids)
    chatter = taxonomy.non_actionable_kind
    index = tuple(kinds.index(chatter if label == chatter else taxonomy.kind_of(label)) for label in labels)
    members = tuple(tuple(i for i, g in enumerate(index) if g == k) for k in range(len(kinds)))
    _GROUPS[(id(taxonomy), labels)] = (taxonomy, (index, kinds, members))
    return index, kinds, members


# Where a live cue files a message when the taxonomy has the category (nlp/TAXONOMY.md: fire, gas, live wires
# and fights are safety, whatever other topic words the message has).
# The category a live cue implies when the cue alone is clear about it. Sparks and fallen lines are not here: a
# street power line is facilities, a socket in a stairwell property (TAXONOMY.md); a person at risk with no fight
# behind it, a person pinned or shut in outside a lift, and a vulnerable person gone are other_incident.
CUE_CATEGORY = {
    "fire": "safety",
    "gas_leak": "safety",
    "fight": "safety",
    "person_at_risk": "other_incident",
    "pinned": "other_incident",
    "missing": "other_incident",
}
# Without a live cue the priority head alone must be this sure (it never sees punctuation, but topic words such
# as 电梯 or 火 lean urgent; a cue that is negated or hypothetical vetoes it).
URGENT_HEAD_MIN = 0.8


def decide(
    labels: Sequence[str],
    probs: np.ndarray,
    taxonomy: Taxonomy | None,
    normalised_text: str,
    p_urgent: float | None = None,
    review_threshold: float = REVIEW_THRESHOLD,
    cues: Sequence[UrgencyCue] | None = None,
    calibrate: Callable[[float], float] | None = None,
    negated_cue: bool | None = None,
) -> Classification:
    """Turn one row of probabilities over final labels (chatter or a category; or flat labels) into a Classification.

    Priority comes from content: a live urgency cue, or the priority head (which never sees punctuation). A live
    cue is never discarded: when the text model says chatter, the message is filed as an urgent incident marked
    for review. calibrate maps the raw confidence to a calibrated one (identity when None); negated_cue says
    whether the text has a negated or hypothetical cue (found here when None).
    """
    if cues is None:
        cues = active_cues(normalised_text)
    cal = calibrate or (lambda p: p)
    cue_kinds = tuple(c.kind for c in cues)
    # plain floats: a message's few dozen labels cost less in Python than in a dozen small numpy calls
    p = probs.tolist()
    # stable (reverse keeps equal keys in order), as argsort(-probs, kind="stable")
    order = sorted(range(len(p)), key=p.__getitem__, reverse=True)[:TOP_K]
    alternatives = tuple((labels[i], p[i]) for i in order)
    urgent = bool(cues) or (
        p_urgent is not None
        and p_urgent >= URGENT_HEAD_MIN
        and not (any(c.negated for c in find_cues(normalised_text)) if negated_cue is None else negated_cue)
        and not is_over(normalised_text)  # 「困了半天 已经出来了」: the head alone never outlasts the danger
    )
    question = is_information_question(normalised_text) and not cues
    if taxonomy is None:  # a flat, user-defined label set
        label, raw = alternatives[0]
        conf = cal(raw)
        low = conf < review_threshold
        return Classification(
            label,
            None,
            "urgent" if urgent else "normal",
            conf,
            alternatives,
            low,
            cue_kinds,
            question,
            REVIEW_LOW_CONFIDENCE if low else None,
        )
    chatter = taxonomy.non_actionable_kind
    if not any(ch.isalnum() for ch in normalised_text):
        # Nothing but punctuation after normalisation (emoji, [图片], 「？？？」, blank): nothing anyone could act on.
        return Classification(chatter, None, "normal", 1.0, ((chatter, 1.0),), False)
    group, kinds, members = _groups(tuple(labels), taxonomy)
    kind_p = [0.0] * len(kinds)
    for g, q in zip(group, p, strict=True):  # bincount's sums: float64, in label order
        kind_p[g] += q
    kind = kinds[kind_p.index(max(kind_p))]
    p_chatter = kind_p[kinds.index(chatter)]
    request_kind = taxonomy.actionable_kinds[-1]
    if (
        kind != chatter
        and not cues
        and (
            p_chatter >= CHATTER_FLOOR
            or (p_chatter >= NEIGHBOUR_CHATTER_MIN and asks_neighbours(normalised_text))
            # a question about a talk or a drill (「防诈骗讲座在哪报名」) asks for information; it is not news
            or (
                p_chatter >= NEWS_CHATTER_MIN
                and is_news(normalised_text)
                and not question
                and not adds_own_report(normalised_text)
            )
            or (
                # the priority head's danger is kept too, unless the message says it is over (session 15)
                (p_urgent is None or p_urgent < URGENT_HEAD_MIN or is_over(normalised_text))
                and (form := chatter_form(normalised_text)) is not None
                and (p_chatter >= CHATTER_FORM_MIN or form in UNFLOORED_FORMS)
            )
            # a "request" that asks nothing and tells where or how answers a neighbour (TAXONOMY.md §1)
            or (
                kind == request_kind
                and kind_p[kinds.index(taxonomy.actionable_kinds[0])] < ANSWER_INCIDENT_MAX
                and tells_not_asks(normalised_text)
            )
        )
    ):
        kind = chatter
    if (
        kind == chatter
        and not cues
        and question
        and kind_p[kinds.index(request_kind)] >= QUESTION_KEEP
        and not asks_neighbours(normalised_text)
        and chatter_form(normalised_text) is None
    ):
        kind = request_kind  # 「开居住证明 带啥」: a terse information question nobody else is asked (TAXONOMY.md rule 3)
    if kind == chatter and not cues:
        conf = cal(p_chatter)
        low = conf < review_threshold
        return Classification(
            chatter,
            None,
            "normal",
            conf,
            alternatives,
            low,
            (),
            question,
            REVIEW_LOW_CONFIDENCE if low else None,
        )
    live_cue_override = kind == chatter  # a live danger cue outweighs any "chatter": a human decides
    incident, request = taxonomy.actionable_kinds[0], taxonomy.actionable_kinds[-1]
    if live_cue_override or (cues and kind != incident):
        kind = incident  # danger is an incident, not a service request
    elif (
        question
        and kind == incident
        and request != incident
        and kind_p[kinds.index(request)] >= QUESTION_REQUEST_MIN
    ):
        kind = request  # 「物业电话是多少」 asks for information: a request, not a property fault (TAXONOMY.md rule 3)
    k = kinds.index(kind)
    best = max(members[k], key=p.__getitem__)  # the first best, as argmax
    category = labels[best]
    # compared in the probabilities' own precision (float32 from the heads), as numpy compares a scalar
    if kind == request and question and probs[best] < 0.5 * kind_p[k]:
        fallback = f"other_{request}"  # no request topic stands out: the catch-all request category
        if fallback in labels and fallback in taxonomy.categories_of(kind):
            category = fallback
    preferred = CUE_CATEGORY.get(cues[0].kind) if cues else None
    if preferred in labels and preferred in taxonomy.categories_of(kind):
        category = str(preferred)
    confidence = cal(p[labels.index(category)])
    low = confidence < review_threshold
    reason = REVIEW_LIVE_CUE if live_cue_override else (REVIEW_LOW_CONFIDENCE if low else None)
    if urgent and not cues and reason is None:
        reason = REVIEW_URGENT_NO_CUE
    return Classification(
        kind,
        category,
        "urgent" if urgent else "normal",
        confidence,
        alternatives,
        reason is not None,
        cue_kinds,
        question,
        reason,
    )
