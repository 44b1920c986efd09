"""The console's registration form: what the system fills (issuer.prefill), the lists the clerk picks from
(GB 3304 民族 names from credential.codes, the officer's districts by name), and the POST that registers.

The document number is not a field: the desk allocates it (issuer.numbering) once the application passed
every check. A registration redirects to the record page with a "next application" link that keeps the
type and the district (GET /officer/?type=...&district=...: no personal data in the URL).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, request, url_for

from credential.codes import ETHNICITY_LABELS, district_label
from credential.errors import CredentialError
from credential.model import CredentialType, Permit
from issuer.errors import IssuerError
from issuer.http.console.ui import ConsoleUi
from issuer.model import Officer
from issuer.prefill import Office, default_validity, filled
from issuer.rules import beijing_day

MAX_FIELD = 200
# The form's inputs (no document number: allocated). The API still takes one (issuer/http/records.py).
FORM_FIELDS = ("type", "name", "name_pinyin", "sex", "ethnicity", "birth_date", "citizen_id", "address",
               "district", "authority_code", "authority_name", "valid_from", "valid_until")
_INT_FIELDS = ("sex", "ethnicity")
TYPE_SLUGS = tuple(kind.slug for kind in CredentialType)


def office_of(ui: ConsoleUi, officer: Officer) -> Office:
    service = ui.desk.service
    return Office(service.keyring.authority_code, service.keyring.authority_name, tuple(officer.districts),
                  beijing_day(service.clock()), service.settings)


def fresh_form(officer: Officer, args: dict[str, str]) -> dict[str, str]:
    """An empty form, with the type and the district of ``args`` kept when they are ones the officer may use
    (the "next application" link); anything else in the URL is ignored."""
    form = {}
    if args.get("type") in TYPE_SLUGS:
        form["type"] = args["type"]
    if args.get("district") in officer.districts:
        form["district"] = args["district"]
    return form


def as_application(data: dict[str, str]) -> dict[str, Any]:
    """The filled form as Permit.from_dict takes it: the code fields as integers when they are digits."""
    return {name: int(value) if name in _INT_FIELDS and value.isascii() and value.isdigit() else value
            for name, value in data.items()}


def register_registration_routes(bp: Blueprint, ui: ConsoleUi) -> None:
    desk = ui.desk

    @bp.context_processor
    def choices() -> dict[str, Any]:
        """What the form offers: 民族 names, district names, the office's authority and default validity."""
        service = desk.service
        today = beijing_day(service.clock())
        return {"ethnicities": ETHNICITY_LABELS, "district_label": district_label,
                "authority": (service.keyring.authority_code, service.keyring.authority_name),
                "validity": {slug: default_validity(slug, today, service.settings) for slug in TYPE_SLUGS}}

    @bp.post("/records")
    @ui.signed_in
    def register(officer: Officer) -> Any:
        form = {name: request.form.get(name, "").strip()[:MAX_FIELD] for name in FORM_FIELDS}
        shown = form
        # The supervisor's form has the override field (possibly left empty: the desk then says why not).
        override = request.form.get("override_reason")
        override = override[:MAX_FIELD] if override is not None else None
        try:
            data = filled(form, office_of(ui, officer))
            shown = {name: value for name, value in data.items() if name in FORM_FIELDS}
            permit = Permit.from_dict(as_application(data))
            record = desk.register(officer, permit, override_reason=override, allocate_number=True)
        except (IssuerError, CredentialError) as exc:
            return ui.failed(officer, exc, form={**shown, "override_reason": override or ""})
        return redirect(url_for("officer_console.record", record_id=record.id, done="registered"))
