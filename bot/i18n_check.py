"""Check the translation catalogues against the code (run by `make test`).

Fails when a message in the code is missing from a catalogue, untranslated, fuzzy, or
translated with different placeholders; warns about obsolete entries. `--update` rewrites
the template and merges it into each catalogue (what `make catalogs-update` runs)."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
SOURCES = ("bot", "handlers", "renfort")
KEYWORDS = {"_": None, "n_": (1, 2), "N_": None, "gettext": None, "ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}")
# The board's pages call `_` and `n_` as the code does (handlers/board/templates).
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2.ext:babel_extract")]
LANGUAGES = ("fr", "en")
SOURCE_LANGUAGE = "en"  # message ids are English


def fill_with_source(catalog: Catalog) -> None:
    """English is complete by construction: an empty entry takes its message id."""
    for message in catalog:
        if message.id and not any(_strings(message)):
            message.string = message.id


def extract() -> Catalog:
    """Every translatable message in the code, with where it is used."""
    catalog = Catalog(project="Renfort", charset="utf-8")
    for source in SOURCES:
        for filename, lineno, message, comments, _context in extract_from_dir(
            ROOT / source, method_map=METHODS, keywords=KEYWORDS
        ):
            catalog.add(
                message, locations=[(f"{source}/{filename}", lineno)], auto_comments=comments
            )
    return catalog


def po_path(language: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / "messages.po"


def load(language: str) -> Catalog:
    with po_path(language).open("rb") as handle:
        return read_po(handle, locale=language)


def _flat(value: object) -> tuple[str, ...]:
    """A message id or translation as a tuple of strings (plurals have several)."""
    if isinstance(value, (tuple, list)):
        return tuple(str(v) if v else "" for v in value)
    return (str(value) if value else "",)


def _ids(message: Message) -> tuple[str, ...]:
    return _flat(message.id)


def _strings(message: Message) -> tuple[str, ...]:
    return _flat(message.string)


def problems(template: Catalog, catalog: Catalog, language: str) -> Iterator[str]:
    for wanted in template:
        if not wanted.id:
            continue
        found = catalog.get(wanted.id)
        where = ", ".join(f"{f}:{n}" for f, n in wanted.locations[:1])
        if found is None:
            yield f"{language}: missing {wanted.id!r} ({where})"
            continue
        if found.fuzzy:
            yield f"{language}: fuzzy {wanted.id!r}"
        strings = _strings(found)
        if not all(strings):
            yield f"{language}: untranslated {wanted.id!r} ({where})"
            continue
        expected = {p for text in _ids(wanted) for p in PLACEHOLDER.findall(text)}
        for text in strings:
            given = set(PLACEHOLDER.findall(text))
            # A plural form may leave the count out ("one person" / "{n} people").
            plural_ok = isinstance(wanted.id, tuple | list) and given | {"n"} == expected | {"n"}
            if given != expected and not plural_ok:
                mismatch = f"{sorted(given)} != {sorted(expected)}"
                yield f"{language}: placeholders {mismatch} in {wanted.id!r}"


def update() -> None:
    """Write the template and merge it into every catalogue (new entries untranslated)."""
    template = extract()
    LOCALES.mkdir(exist_ok=True)
    with (LOCALES / "messages.pot").open("wb") as handle:
        write_po(handle, template, omit_header=False, sort_output=True)
    for language in LANGUAGES:
        path = po_path(language)
        path.parent.mkdir(parents=True, exist_ok=True)
        catalog = load(language) if path.exists() else Catalog(locale=language, project="Renfort")
        catalog.update(template, no_fuzzy_matching=True)
        if language == SOURCE_LANGUAGE:
            fill_with_source(catalog)
        with path.open("wb") as handle:
            write_po(handle, catalog, sort_output=True, ignore_obsolete=True)


def main(argv: list[str]) -> int:
    if "--update" in argv:
        update()
        print("catalogues updated: translate the new entries in locales/*/LC_MESSAGES/messages.po")
        return 0
    template = extract()
    found = [p for language in LANGUAGES for p in problems(template, load(language), language)]
    for problem in found:
        print(problem)
    used = {m.id for m in template if m.id}
    for language in LANGUAGES:
        obsolete = [m.id for m in load(language) if m.id and m.id not in used]
        if obsolete:
            print(f"{language}: {len(obsolete)} obsolete entries (run `make catalogs-update`)")
    if found:
        print(f"catalogue check failed: {len(found)} problems")
        return 1
    print(f"catalogues complete: {len(used)} messages in {', '.join(LANGUAGES)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
