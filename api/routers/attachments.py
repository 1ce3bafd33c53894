"""Attachments: a ticket's photos, files and voice for scoped staff, and uploading a 处置后照片.

GET /tickets/N/attachments lists them; GET /attachments/ID serves one file to a token (or dashboard
session) whose region contains the attachment's grid — 403 outside it, 401 without credentials;
POST /tickets/N/attachments stores a photo sent as the request body as that ticket's 处置后照片.
A file is served with its sniffed type, `nosniff`, `no-store` and a Content-Disposition naming only
the attachment id (never a name a resident chose); images inline, anything else as a download.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from gridbot.api.auth import PrincipalDep, require_grid
from gridbot.api.deps import Services, ServicesDep, SessionDep
from gridbot.api.errors import ERROR_RESPONSES, REFUSED_OR_INVALID_422, ApiError, ErrorOut, not_found
from gridbot.api.schemas import DB_INT_MAX
from gridbot.models.attachments import records
from gridbot.models.attachments.store import EXTENSIONS, FileStore
from gridbot.models.entities import Attachment, Ticket, utcnow
from gridbot.models.enums import AttachmentRole, AttachmentStatus
from gridbot.models.tickets import service
from gridbot.models.wording import staff

router = APIRouter(tags=["attachments"], responses=ERROR_RESPONSES)
Number = Annotated[int, Path(ge=1, le=DB_INT_MAX, description="The ticket number (#42 → 42).")]
AttachmentId = Annotated[int, Path(ge=1, le=DB_INT_MAX)]
UPLOAD_PATHS = (r"^/tickets/\d+/attachments$", r"^/work/api/tickets/\d+/photos$")
# the file is never a page: nothing in it may run, even if a browser were to render it
FILE_CSP = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox"


class AttachmentOut(BaseModel):
    """One attachment of a ticket: what it is, whether it is kept (and why not), its transcript."""

    id: int
    at: datetime
    kind: str
    role: str | None
    status: str
    refused_because: str | None
    content_type: str
    size_bytes: int
    needs_listening: bool
    transcript: str | None  # masked; only when the operator configured speech-to-text


def present(row: Attachment) -> AttachmentOut:
    """The API's view of an attachment row."""
    return AttachmentOut(
        id=row.id,
        at=row.created_at,
        kind=row.kind.value,
        role=row.role.value if row.role else None,
        status=row.status.value,
        refused_because=staff.attachment_refused(row.reason) if row.reason else None,
        content_type=row.content_type,
        size_bytes=row.size_bytes,
        needs_listening=row.needs_listening,
        transcript=row.transcript_masked,
    )


def grid_of(row: Attachment, ticket: Ticket | None) -> int:
    """The grid an attachment belongs to (its ticket's, else its message's); 404 when it has none."""
    grid_id = ticket.grid_id if ticket is not None else row.grid_id
    if grid_id is None:
        raise not_found("附件")
    return grid_id


def file_response(services: Services, row: Attachment) -> FileResponse:
    """The stored file, or 404 when it was refused, never delivered or purged."""
    if row.status is not AttachmentStatus.STORED or row.sha256 is None:
        raise not_found("附件")
    path = FileStore(services.settings.attachments).path_of(row.sha256)
    if not path.is_file():
        raise not_found("附件")
    inline = row.content_type.startswith("image/") or row.content_type.startswith("audio/")
    name = f"attachment-{row.id}.{EXTENSIONS.get(row.content_type, 'bin')}"
    return FileResponse(
        path,
        media_type=row.content_type,
        content_disposition_type="inline" if inline else "attachment",
        filename=name,
        headers={"Content-Security-Policy": FILE_CSP, "Cache-Control": "no-store, private"},
    )


def read_upload(body: bytes) -> bytes:
    """An uploaded photo's bytes, 422 when empty (the size limit applies before authentication)."""
    if not body:
        raise ApiError(422, "empty_upload", "请选择要上传的照片")
    return body


@router.get(
    "/tickets/{number}/attachments",
    summary="A ticket's photos, files and voice",
    responses={404: {"model": ErrorOut, "description": "no such ticket"}},
)
def list_for_ticket(number: Number, principal: PrincipalDep, session: SessionDep) -> list[AttachmentOut]:
    """Every attachment linked to the ticket, refused ones with the reason."""
    ticket = service.get_ticket(session, number)
    require_grid(session, principal, ticket.grid_id)
    return [present(a) for a in records.of_ticket(session, ticket.id)]


@router.get(
    "/attachments/{attachment_id}",
    summary="One attachment's file",
    response_class=FileResponse,
    responses={
        200: {"content": {"image/jpeg": {}, "application/octet-stream": {}}},
        404: {"model": ErrorOut, "description": "no such attachment, or refused or purged"},
    },
)
def get_file(
    attachment_id: AttachmentId, principal: PrincipalDep, services: ServicesDep, session: SessionDep
) -> FileResponse:
    """The file, to a caller whose region contains the attachment's grid."""
    row = session.get(Attachment, attachment_id)
    if row is None:
        raise not_found("附件")
    ticket = session.get(Ticket, row.ticket_id) if row.ticket_id is not None else None
    require_grid(session, principal, grid_of(row, ticket))
    return file_response(services, row)


@router.post(
    "/tickets/{number}/attachments",
    status_code=201,
    summary="Upload a 处置后照片 (the request body is the image)",
    responses={
        404: {"model": ErrorOut, "description": "no such ticket"},
        422: REFUSED_OR_INVALID_422,
    },
    openapi_extra={"requestBody": {"content": {"image/jpeg": {}, "image/png": {}}, "required": True}},
)
async def upload(
    number: Number, request: Request, principal: PrincipalDep, services: ServicesDep
) -> AttachmentOut:
    """Store the body as the ticket's 处置后照片; refused files are recorded and answered with 422."""
    data = read_upload(await request.body())

    def in_scope(session: Session, ticket: Ticket) -> None:
        require_grid(session, principal, ticket.grid_id)

    return store_upload(services, number, data, principal.actor.person_id, in_scope)


def store_upload(
    services: Services,
    number: int,
    data: bytes,
    person_id: int | None,
    check: Callable[[Session, Ticket], object],
) -> AttachmentOut:
    """Check scope, store the photo linked to the ticket as AFTER; 422 with the reason when refused."""
    with services.sessions.begin() as session:
        ticket = service.get_ticket(session, number)
        check(session, ticket)
        row = records.upload(
            session,
            FileStore(services.settings.attachments),
            data,
            ticket_id=ticket.id,
            grid_id=ticket.grid_id,
            sender_id=person_id,
            role=AttachmentRole.AFTER,
            now=utcnow(),
        )
        out = present(row)
    if row.status is not AttachmentStatus.STORED:
        raise ApiError(422, f"attachment_{row.reason}", out.refused_because or "未保存")
    return out
