"""SMS keywords of missions, printed on posters: texting BUREAU3 shows that mission.
Made from the title on first use: A-Z and 0-9, at most 10 characters, unique."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.services import audit, mission_store
from bot.services.coordinators import coordinated_mission
from bot.services.errors import NotFound
from storage import schema
from storage.database import Database

M = schema.missions
MAX_LENGTH = 10
STOPWORDS = frozenset({"POUR", "AVEC", "DANS", "SUR", "LES", "DES", "THE", "AND", "FOR", "WITH"})


def _words(title: str) -> list[str]:
    plain = "".join(
        c for c in unicodedata.normalize("NFKD", title) if not unicodedata.combining(c)
    ).upper()
    return "".join(c if c.isascii() and c.isalnum() else " " for c in plain).split()


def base_keyword(title: str) -> str:
    """The first meaningful word of the title with its numbers: 'Bureau de vote n°3' ->
    'BUREAU3'."""
    words = _words(title)
    digits = "".join(w for w in words if w.isdigit())[:3]
    letters = [w for w in words if not w.isdigit() and len(w) >= 3 and w not in STOPWORDS]
    word = "".join(c for c in (letters[0] if letters else "MISSION") if c.isalpha()) or "MISSION"
    return word[: MAX_LENGTH - len(digits)] + digits


def candidates(title: str) -> list[str]:
    base = base_keyword(title)
    more = [base[: MAX_LENGTH - len(str(k))] + str(k) for k in range(2, 100)]
    return [base, *more]


async def ensure_keyword(
    db: Database, *, actor_id: int, mission_id: int, reserved: Callable[[str], bool]
) -> str:
    """The mission's keyword, made on first use; `reserved` says which words the SMS
    conversation already understands otherwise (STOP, AIDE, OUI...)."""
    async with db.transaction("ensure_keyword") as conn:
        row = await coordinated_mission(
            conn, actor_id, mission_id, M.c.title, M.c.organisation_id, M.c.keyword
        )
        if row.keyword:
            return str(row.keyword)
        keyword = await _free_keyword(conn, row.title, reserved)
        await mission_store.change(conn, mission_id, {"keyword": keyword})
        await audit.record(
            conn,
            "ensure_keyword",
            actor_id=actor_id,
            action="mission.keyword",
            subject_type="mission",
            subject_id=mission_id,
            keyword=keyword,
        )
        return keyword


async def _free_keyword(conn: AsyncConnection, title: str, reserved: Callable[[str], bool]) -> str:
    options = [k for k in candidates(title) if not reserved(k)]
    taken = set(await conn.scalars(select(M.c.keyword).where(M.c.keyword.in_(options))))
    for keyword in options:
        if keyword not in taken:
            return keyword
    raise NotFound("keyword")  # a hundred missions with the same first word


async def mission_of_keyword(db: Database, text: str) -> int | None:
    """The mission a texted word names, if any ('bureau 3' reads as BUREAU3)."""
    keyword = "".join(_words(text))
    if not keyword or len(keyword) > MAX_LENGTH:
        return None
    async with db.reading("mission_of_keyword") as conn:
        found = await conn.scalar(select(M.c.id).where(M.c.keyword == keyword))
    return None if found is None else int(found)
