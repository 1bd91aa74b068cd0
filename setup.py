"""The build step the wheel needs: compile the .po catalogues of `locales/` into the bot
package (`bot/locales/<locale>/LC_MESSAGES/messages.mo`), where bot/i18n.py finds them as
package data. Everything else about the package is in pyproject.toml."""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
DOMAIN = "messages"


class BuildWithCatalogues(build_py):
    """build_py, then the compiled catalogues beside the modules it copied."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return  # an editable install reads the .po files of the checkout
        sources = sorted((ROOT / "locales").glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
        if not sources:
            raise SystemExit("no catalogue under locales/*/LC_MESSAGES: refusing to build")
        for source in sources:
            locale = source.parent.parent.name
            target = Path(self.build_lib) / "bot" / "locales" / locale / "LC_MESSAGES"
            target.mkdir(parents=True, exist_ok=True)
            with source.open("rb") as handle:
                catalog = read_po(handle, locale=locale)
            with (target / f"{DOMAIN}.mo").open("wb") as handle:
                write_mo(handle, catalog)


setup(cmdclass={"build_py": BuildWithCatalogues})
