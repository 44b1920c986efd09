"""How console pages show times, officers and citizen IDs: Jinja filters registered on the console blueprint.

Times are the audit log's epoch seconds shown in Beijing time (the bureau's, whatever the server's zone);
a citizen ID is masked unless the page was asked to reveal it (issuer.desk.OfficerDesk.reveal_citizen_id).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from flask import Blueprint

from credential.passclaims import CHINA_STANDARD_TIME
from issuer.desk import OfficerDesk
from issuer.history import masked_citizen_id
from issuer.http.console.words import ACTORS, Words


def beijing_time(seconds: int) -> str:
    """2026-05-01 14:03:22 in Beijing time."""
    return datetime.datetime.fromtimestamp(seconds, CHINA_STANDARD_TIME).strftime("%Y-%m-%d %H:%M:%S")


def beijing_day(seconds: int) -> str:
    return datetime.datetime.fromtimestamp(seconds, CHINA_STANDARD_TIME).strftime("%Y-%m-%d")


def officer_names(desk: OfficerDesk, ids: Iterable[str]) -> dict[str, Words]:
    """Each id's name as the page shows it beside the id: an officer's name (both languages: a name is a
    name), the wallet's or the command line's words, or nothing known for an officer since removed."""
    names: dict[str, Words] = {}
    for officer_id in set(ids):
        if officer_id in ACTORS:
            names[officer_id] = ACTORS[officer_id]
            continue
        found = desk.officers.get(officer_id)
        names[officer_id] = (found.name, found.name) if found is not None else ("（未知）", "(unknown)")
    return names


def register_filters(bp: Blueprint) -> None:
    bp.add_app_template_filter(beijing_time, "beijing")
    bp.add_app_template_filter(beijing_day, "beijing_day")
    bp.add_app_template_filter(masked_citizen_id, "masked")
