"""The one rule for residents' personal data in API responses.

Every role that can hold an API token (community, street, district and city admins) sees masked
text: phone numbers, ID and bank card numbers, plates and room-level addresses are replaced by tags
(nlp.pii.mask), and Person.phone is shown as 138****5678. The people who may see unmasked data —
the assigned gridworker and its grid leader — work in the WeChat group through the bot and hold no
API tokens in this version, so UNMASK_ROLES is empty: nobody unmasks through the API.
"""

from __future__ import annotations

from typing import Any

from gridbot.models.enums import Role
from gridbot.nlp.pii import mask

UNMASK_ROLES: frozenset[Role] = frozenset()


def may_unmask(role: Role) -> bool:
    """Whether a token of this role may see residents' personal data (none may, in this version)."""
    return role in UNMASK_ROLES


def text(value: str | None) -> str | None:
    """A resident-written text as an API client may see it."""
    return mask(value) if value else value


def phone(value: str | None) -> str | None:
    """A phone number reduced to its first three and last four digits (or fully hidden if short)."""
    if not value:
        return None
    digits = "".join(c for c in value if c.isdigit())
    return f"{digits[:3]}****{digits[-4:]}" if len(digits) >= 11 else "****"


def data(value: Any) -> Any:
    """Event payloads with every string masked (they can quote residents' texts)."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {k: data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [data(v) for v in value]
    return value
