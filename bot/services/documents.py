"""The documents a person may ask for, by kind: a link names its document by kind, and the
document is built from the person's data when the link is opened."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.messaging.message import Document
from bot.services import document_links, privacy
from bot.services.errors import NotFound
from storage.database import Database

MY_DATA = "my_data"


class Build(Protocol):
    """How a kind of document is made from the person's data."""

    async def __call__(self, db: Database, *, person_id: int) -> Document: ...


# Each kind's file name is its own, so a built document tells its kind.
KINDS: dict[str, tuple[str, Build]] = {MY_DATA: (privacy.MY_DATA_FILE, privacy.my_data)}


def kind_of(document: Document) -> str | None:
    """The kind of a document built here (None: not one a link can build again)."""
    for kind, (filename, _build) in KINDS.items():
        if filename == document.filename:
            return kind
    return None


async def link(db: Database, *, person_id: int, document: Document, now: datetime) -> str | None:
    """A link's secret to this document of the person's, or None when no link can give it."""
    kind = kind_of(document)
    if kind is None:
        return None
    return await document_links.issue(db, person_id=person_id, kind=kind, now=now)


async def download(db: Database, token: str, *, now: datetime) -> Document | None:
    """The document a live link gives, built now; None when the link is unknown or expired,
    or its person erased."""
    found = await document_links.opened(db, token, now=now)
    if found is None or found.kind not in KINDS:
        return None
    _filename, build = KINDS[found.kind]
    try:
        return await build(db, person_id=found.person_id)
    except NotFound:
        return None
