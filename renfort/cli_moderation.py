"""`renfort referent add|list`, `renfort org verify`, `renfort missions stations`: the
operator's side of templates and moderation; renfort.cli registers them in its groups."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from bot.services.errors import ServiceError
from renfort import cli_common as cli
from renfort.cli_common import escape

# The services and the importer load in the commands that use them (see renfort.cli).
if TYPE_CHECKING:
    from bot.importer import ImportResult
    from bot.services import organisations
    from storage.database import Database

T = TypeVar("T")

referent_app = typer.Typer(
    help="Referents who review the missions of a territory.", no_args_is_help=True
)

REFUSALS = {
    "territory": "the territory must be a département or a postcode prefix, e.g. 52 or 521",
    "referent_person": "give either --telegram-id or --person-id",
    "person_not_found": "nobody with this id has started the bot: ask them to send /start first",
    "referent_exists": "this person is already a referent of this territory",
    "template_not_found": "no such template",
}


def _with_db(work: Callable[[Database], Awaitable[T]]) -> T:
    """Like cli.with_database, with this module's refusals in an operator's words."""
    settings = cli.settings_or_exit()

    async def guarded(db: Database) -> T | ServiceError:
        try:
            return await work(db)
        except ServiceError as error:
            return error

    result = cli.with_database(settings, guarded)
    if isinstance(result, ServiceError):
        cli.fail(REFUSALS.get(result.code) or cli.refusal(result))
    return result


@referent_app.command("add")
def referent_add(
    territory: Annotated[
        str, typer.Option(help="A département or postcode prefix, e.g. 52 or 52100.")
    ],
    telegram_id: Annotated[int | None, typer.Option(help="Their Telegram user id.")] = None,
    person_id: Annotated[int | None, typer.Option(help="Their person id in Renfort.")] = None,
) -> None:
    """Make someone who started the bot a referent: they review the territory's missions."""
    from bot.services import moderation

    referent = _with_db(
        lambda db: moderation.add_referent(
            db, territory=territory, telegram_user_id=telegram_id, person_id=person_id
        )
    )
    cli.out().print(
        f"{escape(referent.first_name)} (person #{referent.person_id}) now reviews missions"
        f" of territory {referent.territory}."
    )


@referent_app.command("list")
def referent_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """List referents and their territories."""
    from bot.services import moderation

    referents = _with_db(moderation.list_referents)
    if as_json:
        rows = [
            {
                "person_id": r.person_id,
                "first_name": r.first_name,
                "telegram_user_id": r.telegram_user_id,
                "territory": r.territory,
            }
            for r in referents
        ]
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    if not referents:
        cli.out().print(
            "No referent yet: add one with renfort referent add --telegram-id N --territory 52"
        )
        return
    for r in referents:
        cli.out().print(f"{r.territory}\t#{r.person_id}\t{escape(r.first_name)}")


def org_verify(
    name: Annotated[str, typer.Argument(help="The organisation's name.")],
) -> None:
    """Mark an organisation verified (its template missions may skip review; callouts open)."""
    from bot.services import moderation, organisations

    async def work(db: Database) -> organisations.Organisation:
        found = await organisations.find_organisation_by_name(db, name)
        if found is None:
            cli.fail(f"no organisation named {name!r}")
        return await moderation.verify_organisation(db, organisation_id=found.id, actor_id=None)

    organisation = _with_db(work)
    cli.out().print(f"Organisation [bold]{escape(organisation.name)}[/] is verified.")


def missions_stations(
    file: Annotated[
        Path, typer.Argument(help="CSV: name,address,postcode,latitude,longitude,capacity")
    ],
    organisation: Annotated[str, typer.Option(help="The commune's organisation name.")],
    template: Annotated[str, typer.Option(help="assessor, secretary or teller.")] = "assessor",
    dates: Annotated[
        list[str] | None,
        typer.Option("--date", help="A voting day, e.g. 2027-06-13; repeat for round two."),
    ] = None,
) -> None:
    """One mission per polling station, with 08:00-13:00 and 13:00-18:00 slots each day."""
    from rich.console import Console

    from bot.geo import Geocoder
    from bot.i18n import Translator
    from bot.importer import ImportFileError
    from bot.stations import import_stations

    settings = cli.settings_or_exit()
    try:
        days = [date.fromisoformat(d) for d in dates or []]
    except ValueError as error:
        cli.fail(f"--date: {error}")

    async def work(db: Database) -> ImportResult:
        async with Geocoder(settings.geocoder_url) as geocoder:
            return await import_stations(
                db,
                file,
                organisation_name=organisation,
                template_key=template,
                days=days,
                zone=settings.timezone,
                geocoder=geocoder,
                now=cli.clock(),
                t=Translator(settings.renfort_locale),
            )

    try:
        result = _with_db(work)
    except ImportFileError as error:
        cli.fail(str(error))
    if result.errors:
        for row_error in result.errors:
            Console(stderr=True, highlight=False).print(f"{escape(file.name)} {row_error}")
        cli.fail(f"nothing imported: {len({e.line for e in result.errors})} bad row(s).")
    cli.out().print(
        f"Created {result.missions} mission(s) with {result.slots} slot(s)"
        f" from {escape(file.name)}."
    )
