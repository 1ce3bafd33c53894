"""The one rule for residents' personal data in API responses.

Texts are masked once, when written (`nlp.pii.mask` after normalisation): messages' and tickets'
`text_masked`, gridworkers' notes, rating comments and display names. Responses serve that stored copy
and never mask again per request. Person.phone (entered by administrators) is shown as 138****5678.

Raw text leaves the API only through the unmask role: a token created with `gridbot token create
--unmask`, honoured only when `GRIDBOT_API__UNMASK_ENABLED=true` (off by default), reading one ticket at
a time with `POST /tickets/{number}/unmask`; every read is an "unmask" event in the ticket's audit trail
and an INFO log line (ids only).
"""

from __future__ import annotations

from gridbot.models.org.tokens import TokenPrincipal
from gridbot.models.settings import Settings


def may_unmask(principal: TokenPrincipal, settings: Settings) -> bool:
    """Whether this token may read residents' raw text: the role is granted and the deployment allows it."""
    return settings.api.unmask_enabled and principal.may_unmask


def phone(value: str | None) -> str | None:
    """A phone number reduced to its first three and last four digits (or fully hidden if short)."""
    if not value:
        return None
    digits = "".join(c for c in value if c.isdigit())
    return f"{digits[:3]}****{digits[-4:]}" if len(digits) >= 11 else "****"
