"""The `renfort` command: run the service, migrate the database, manage organisations,
import missions. Every failure an operator can cause is one line and a non-zero exit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.config import first_line
from bot.logs import configure_logging
from renfort import cli_common, run_command
from renfort.cli_common import (
    EXIT_CONFIG,
    err,
    escape,
    fail,
    out,
    settings_or_exit,
    with_database,
)
from renfort.cli_moderation import missions_stations, org_verify, referent_app
from renfort.cli_stats import stats_command

# What only some commands use loads in those commands: `renfort run` is measured from its
# spawn to its first getUpdates, and rich's tables, the importer or Alembic are no part of it.
if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import TaskID

    from bot.importer import ImportResult
    from bot.services import organisations
    from storage.database import Database

app = typer.Typer(
    help="Renfort: volunteer coordination in Telegram and SMS.",
    no_args_is_help=True,
    add_completion=False,
    # Locals in a traceback would print the settings, tokens included.
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
org_app = typer.Typer(
    help="Organisations (communes, associations, public services).", no_args_is_help=True
)
missions_app = typer.Typer(help="Missions and their slots.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(org_app, name="org")
app.add_typer(missions_app, name="missions")
whatsapp_app = typer.Typer(help="WhatsApp through Twilio.", no_args_is_help=True)
app.add_typer(whatsapp_app, name="whatsapp")


@app.command()
def run(
    workers: Annotated[
        int,
        typer.Option(
            min=1, max=64, help="Processes sharing the work (PostgreSQL only; see README)."
        ),
    ] = 1,
) -> None:
    """Start Renfort: the bot, the dispatcher, the HTTP server (a sandbox without a token)."""
    run_command.run(workers)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database to the newest schema."""
    from sqlalchemy.engine import make_url

    from storage.migrate import upgrade_sync

    settings = settings_or_exit()
    where = make_url(settings.database_url).render_as_string(hide_password=True)
    try:
        upgrade_sync(settings.database_url)
    except Exception as error:  # drivers raise many kinds; the operator needs one line
        fail(f"DATABASE_URL: cannot upgrade {where} ({first_line(error)})", EXIT_CONFIG)
    out().print(f"Database {escape(where)} is at the newest schema.")


@db_app.command("backup")
def db_backup(
    file: Annotated[Path, typer.Argument(help="Where to write the copy.")],
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace FILE if it exists.")
    ] = False,
) -> None:
    """Copy the SQLite database to FILE while Renfort runs (PostgreSQL: use pg_dump)."""
    from renfort.backup import BackupRefused, backup_database

    settings = settings_or_exit()
    try:
        backup = backup_database(settings.database_url, file, overwrite=overwrite)
    except BackupRefused as error:
        fail(str(error))
    out().print(
        f"Backed up {escape(str(backup.source))} to {escape(str(backup.target))}"
        f" ({backup.size:,} bytes)."
    )


def organisation_json(organisation: organisations.Organisation) -> dict[str, Any]:
    return {
        "id": organisation.id,
        "name": organisation.name,
        "postcode": organisation.postcode,
        "invite_code": organisation.invite_code,
        "verified": organisation.verified,
    }


@org_app.command("create")
def org_create(
    name: Annotated[str, typer.Argument(help="Its name, e.g. 'Mairie de Saint-Dizier'.")],
    postcode: Annotated[str | None, typer.Option(help="Its postcode (5 digits).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Create an organisation and print its coordinator invite code."""
    from bot.services import organisations

    settings = settings_or_exit()
    organisation = with_database(
        settings, lambda db: organisations.create_organisation(db, name, postcode)
    )
    if as_json:
        typer.echo(json.dumps(organisation_json(organisation), ensure_ascii=False))
        return
    console = out()
    where = f" ({organisation.postcode})" if organisation.postcode else ""
    console.print(
        f"Created organisation #{organisation.id} [bold]{escape(organisation.name)}[/]{where}."
    )
    console.print(
        f"Coordinator invite code: [bold cyan]{organisation.invite_code}[/]"
        f" (a coordinator sends /join {organisation.invite_code} to the bot in a private chat)"
    )


@org_app.command("list")
def org_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """List organisations with their invite codes, members and missions."""
    from rich import box
    from rich.table import Table

    from bot.services import organisations

    settings = settings_or_exit()
    summaries = with_database(settings, organisations.list_organisations)
    if as_json:
        rows = [
            {
                **organisation_json(s.organisation),
                "members": s.members,
                "missions": s.missions,
                "admin_chats": s.admin_chats,
            }
            for s in summaries
        ]
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    if not summaries:
        out().print("No organisation yet: create one with renfort org create NAME --postcode 52100")
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
    table.add_column(
        "name", no_wrap=True, min_width=min(max(len(s.organisation.name) for s in summaries), 32)
    )
    for header in ("postcode", "invite code"):
        table.add_column(header, no_wrap=True)
    for header in ("members", "missions", "groups"):
        table.add_column(header, justify="right")
    for s in summaries:
        o = s.organisation
        table.add_row(
            escape(o.name),
            o.postcode or "",
            o.invite_code,
            str(s.members),
            str(s.missions),
            str(s.admin_chats),
        )
    out().print(table)


STAGE_LABELS = {"check": "Checking rows", "write": "Writing missions"}


class ImportProgress:
    """A transient progress bar, drawn only on a terminal."""

    def __init__(self, console: Console) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.bar.add_task(STAGE_LABELS.get(stage, stage), total=total)
        self.bar.update(self.tasks[stage], completed=done)


@missions_app.command("import")
def missions_import(
    file: Annotated[Path, typer.Argument(help="A CSV file, one row per slot (see README).")],
    skip_bad: Annotated[
        bool, typer.Option("--skip-bad", help="Import the good rows even if some are bad.")
    ] = False,
) -> None:
    """Import missions and slots from a spreadsheet, all in one transaction."""
    from bot.geo import Geocoder
    from bot.importer import ImportFileError, import_missions

    settings = settings_or_exit()
    console = out()
    progress = ImportProgress(console)

    async def work(db: Database) -> ImportResult:
        async with Geocoder(settings.geocoder_url) as geocoder:
            return await import_missions(
                db,
                file,
                zone=settings.timezone,
                geocoder=geocoder,
                now=cli_common.clock(),
                skip_bad=skip_bad,
                progress=progress,
            )

    try:
        with progress.bar:
            result = with_database(settings, work)
    except ImportFileError as error:
        fail(str(error))
    report_import(file, result, skip_bad)


def report_import(file: Path, result: ImportResult, skip_bad: bool) -> None:
    errors = err()
    for error in result.errors:
        errors.print(f"[red]{escape(file.name)}[/] {escape(str(error))}")
    bad = len({e.line for e in result.errors})
    if bad and not skip_bad:
        fail(
            f"nothing imported: {bad} bad row(s) out of {result.rows}."
            " Fix them, or use --skip-bad to import the other rows."
        )
    skipped = f"; skipped {bad} bad row(s)" if bad else ""
    out().print(
        f"Imported {result.missions} mission(s) with {result.slots} slot(s)"
        f" from {escape(file.name)}{skipped}."
    )


app.command("stats")(stats_command)

app.add_typer(referent_app, name="referent")
org_app.command("verify")(org_verify)
missions_app.command("stations")(missions_stations)


def main() -> None:
    """Parse the command line and run the command (renfort.launch loads this module)."""
    configure_logging()
    app()


@whatsapp_app.command("templates")
def whatsapp_templates(
    as_json: Annotated[bool, typer.Option("--json", help="A JSON list of the templates.")] = False,
) -> None:
    """Create the WhatsApp templates Renfort needs (Content API, sent for review) and list
    them with WhatsApp's verdict."""
    from rich import box
    from rich.table import Table
    from twilio.base.exceptions import TwilioException

    from handlers.whatsapp.templates import sync_templates

    settings = settings_or_exit()
    if not settings.whatsapp_enabled:
        fail("WhatsApp is off: set TWILIO_WHATSAPP_FROM and the three TWILIO_ values", EXIT_CONFIG)

    async def work(db: Database) -> Any:
        return await sync_templates(settings, db)

    try:
        everything, created = with_database(settings, work)
    except (TwilioException, OSError) as error:  # Twilio refusing or unreachable: one line
        fail(f"Twilio's Content API: {first_line(error)}")
    new = {(t.name, t.locale) for t in created}
    console = out()
    if as_json:
        rows = [
            {
                "name": t.name,
                "language": t.locale,
                "content_sid": t.content_sid,
                "status": t.status,
                "created": (t.name, t.locale) in new,
            }
            for t in everything
        ]
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    table = Table(box=box.SIMPLE)
    for column in ("template", "language", "content sid", "status", ""):
        table.add_column(column)
    for t in everything:
        table.add_row(
            t.name,
            t.locale,
            t.content_sid,
            t.status,
            "created" if (t.name, t.locale) in new else "",
        )
    console.print(table)
