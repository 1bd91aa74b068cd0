"""Every kind of notification has a service or scheduler job that builds it and a renderer
on every channel; a row queued by the previous release (plain keys) still reads."""

from __future__ import annotations

import ast
import inspect
import pkgutil
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import get_type_hints

import pytest

import bot.scheduler
import bot.services
from bot.notifications import CATALOGUE, UnknownNotification, load
from bot.notifications.applications import ApplicationSubmitted
from handlers.sms import render as sms_render
from handlers.telegram import render as telegram_render
from handlers.whatsapp.templates import KIND_TEMPLATE

# Each channel's registry of renderers, by kind; a new channel adds its own here. WhatsApp
# sends the SMS texts (WhatsAppChannel.render), so the SMS registry covers it.
CHANNELS: dict[str, Mapping[str, object]] = {
    "telegram": telegram_render.RENDERERS,
    "sms": sms_render.RENDERERS,
}
PRODUCERS = (bot.services, bot.scheduler)


def annotation_nodes(tree: ast.AST) -> set[int]:
    """The nodes of every type annotation: naming a class there builds nothing."""
    found: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.arg | ast.AnnAssign) and node.annotation is not None:
            found.add(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns:
            found.add(node.returns)
    return {id(inner) for top in found for inner in ast.walk(top)}


def built_in_producers() -> dict[str, set[str]]:
    """Notification class name -> the producer modules that use the class in code: build it
    (OfferMade(...), OfferMade.about(...)) or hand it to the code that does."""
    names = {cls.__name__ for cls in CATALOGUE.values()}
    found: dict[str, set[str]] = {name: set() for name in names}
    for package in PRODUCERS:
        for module in pkgutil.iter_modules(package.__path__):
            path = Path(package.__path__[0]) / f"{module.name}.py"
            tree = ast.parse(path.read_text())
            typing_only = annotation_nodes(tree)
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Name)
                    and node.id in names
                    and isinstance(node.ctx, ast.Load)
                    and id(node) not in typing_only
                ):
                    found[node.id].add(f"{package.__name__}.{module.name}")
    return found


def test_every_kind_is_built_by_a_service_or_a_scheduler_job() -> None:
    producers = built_in_producers()
    orphans = sorted(kind for kind, cls in CATALOGUE.items() if not producers[cls.__name__])
    assert orphans == []


@pytest.mark.parametrize("channel", sorted(CHANNELS))
def test_every_kind_has_a_renderer_on_every_channel(channel: str) -> None:
    assert sorted(CATALOGUE) == sorted(CHANNELS[channel])


@pytest.mark.parametrize("channel", sorted(CHANNELS))
def test_each_renderer_takes_the_notification_of_its_kind(channel: str) -> None:
    for kind, renderer in CHANNELS[channel].items():
        assert callable(renderer)
        first = next(iter(inspect.signature(renderer).parameters))
        assert get_type_hints(renderer)[first] is CATALOGUE[kind], (channel, kind)


def test_whatsapp_templates_carry_only_kinds_of_the_catalogue() -> None:
    assert set(KIND_TEMPLATE) <= set(CATALOGUE)


def test_a_row_queued_before_the_catalogue_reads_with_defaults_for_newer_keys() -> None:
    old_row = {
        "application_id": 17,
        "mission_id": 3,
        "mission_title": "Assesseur",
        "organisation_name": "Mairie",
        "address": "École Jules Ferry",
        "remote": False,
        "timezone": "Europe/Paris",
        "starts_at": "2027-06-13T06:00:00+00:00",
        "ends_at": "2027-06-13T11:00:00+00:00",
        "volunteer_name": "Camille",
        "a_key_no_longer_used": 1,
    }
    submitted = load("application_submitted", old_row)
    assert isinstance(submitted, ApplicationSubmitted)
    assert submitted.starts_at == datetime.fromisoformat("2027-06-13T06:00:00+00:00")
    assert submitted.conditions == () and submitted.volunteer_via_sms is False
    stored = submitted.to_payload()
    assert stored["starts_at"] == "2027-06-13T06:00:00+00:00"
    assert "a_key_no_longer_used" not in stored
    assert load("application_submitted", stored) == submitted


def test_a_row_missing_a_needed_key_or_of_an_unknown_kind_is_refused() -> None:
    with pytest.raises(UnknownNotification):
        load("application_submitted", {"mission_title": "Assesseur"})
    with pytest.raises(UnknownNotification):
        load("crisis_callout", {})
