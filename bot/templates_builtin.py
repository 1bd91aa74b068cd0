"""The built-in mission templates: what French communes and associations post most often
(election day, the Covid 2020 kinds of help). Texts are English msgids, translated when a
coordinator picks one; keys are stable and name the template on the command line."""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import N_


@dataclass(frozen=True)
class BuiltinTemplate:
    key: str
    title: str
    description: str
    domain: str
    duration_minutes: int
    prerequisites: str
    default_capacity: int


ELECTION_KEYS = frozenset({"assessor", "secretary", "teller"})

BUILTIN_TEMPLATES: tuple[BuiltinTemplate, ...] = (
    BuiltinTemplate(
        key="assessor",
        title=N_("Polling station assessor"),
        description=N_(
            "Hold the polling station with its president: check voters' identity, have them"
            " sign the register, watch over the ballot box."
        ),
        domain="citizenship",
        duration_minutes=300,
        prerequisites=N_("Be on the electoral roll of the département."),
        default_capacity=2,
    ),
    BuiltinTemplate(
        key="secretary",
        title=N_("Polling station secretary"),
        description=N_(
            "Keep the polling station's records with the president and the assessors, and"
            " write the minutes of the vote."
        ),
        domain="citizenship",
        duration_minutes=300,
        prerequisites=N_("Be on the electoral roll of the département."),
        default_capacity=1,
    ),
    BuiltinTemplate(
        key="teller",
        title=N_("Teller at the count"),
        description=N_(
            "Count the ballots after the polling station closes, at a table of four, under"
            " the eye of the station's president."
        ),
        domain="citizenship",
        duration_minutes=120,
        prerequisites=N_("Be a voter who can read and write French."),
        default_capacity=4,
    ),
    BuiltinTemplate(
        key="food_aid",
        title=N_("Food aid distribution"),
        description=N_(
            "Welcome people, prepare and hand out food parcels, tidy up after the distribution."
        ),
        domain="solidarity",
        duration_minutes=180,
        prerequisites="",
        default_capacity=6,
    ),
    BuiltinTemplate(
        key="childcare",
        title=N_("Childcare for health workers' children"),
        description=N_(
            "Look after the children of health workers on duty, with the team of the host facility."
        ),
        domain="education",
        duration_minutes=240,
        prerequisites=N_("Experience with children; a criminal record check may be asked."),
        default_capacity=2,
    ),
    BuiltinTemplate(
        key="calls",
        title=N_("Keeping in touch with isolated people"),
        description=N_(
            "Call isolated people regularly, by phone or video, to chat and pass on their"
            " needs to the organisation."
        ),
        domain="solidarity",
        duration_minutes=120,
        prerequisites="",
        default_capacity=5,
    ),
    BuiltinTemplate(
        key="shopping",
        title=N_("Shopping for vulnerable people"),
        description=N_(
            "Do the shopping of people who cannot go out and bring it to their door, keeping"
            " the receipt."
        ),
        domain="neighbourhood",
        duration_minutes=120,
        prerequisites="",
        default_capacity=3,
    ),
    BuiltinTemplate(
        key="neighbourhood",
        title=N_("Neighbourhood solidarity"),
        description=N_(
            "Lend a hand to neighbours who need it: small errands, a visit, help with paperwork."
        ),
        domain="neighbourhood",
        duration_minutes=120,
        prerequisites="",
        default_capacity=5,
    ),
)

BY_KEY = {template.key: template for template in BUILTIN_TEMPLATES}
