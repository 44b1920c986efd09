"""The verifier cache folder's layout: which file holds what, and the name of a status list's file."""

from __future__ import annotations

import hashlib

ROOT_FILE = "root.pem"
TRUST_FILE = "trustlist.jwt"
STATUS_DIR = "status"
STATE_FILE = "state.json"
STATUS_FORMS = ("cwt", "jwt")  # file suffixes of the two forms of a status list
StatusToken = str | bytes  # a status list as received: a compact JWS (text) or a CWT (bytes)


def status_file_name(uri: str, form: str = "jwt") -> str:
    """The file name of the list at ``uri`` in one of STATUS_FORMS."""
    if form not in STATUS_FORMS:
        raise ValueError(f"unknown status list form {form!r}")
    return hashlib.sha256(uri.encode("utf-8")).hexdigest() + "." + form


def token_form(token: StatusToken) -> str:
    """The STATUS_FORMS suffix a list is kept under: the form it came in."""
    return "cwt" if isinstance(token, bytes) else "jwt"


__all__ = ["ROOT_FILE", "STATE_FILE", "STATUS_DIR", "STATUS_FORMS", "TRUST_FILE", "StatusToken",
           "status_file_name", "token_form"]
