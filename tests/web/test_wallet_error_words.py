"""The wallet PWA shows the wallet API's own words for a refusal it has none of its own for: the Chinese
``error_description_zh`` (wallet_api/error_words.py) first, then the English ``error_description``; an early
endorsement (endorsement_not_due) in the wallet's words with the day the window opens. The real answers of
the wallet API's error handler are fed to the PWA's http.js and requestswords.js in node, from the sources.
(Chromium, the early endorsement end to end: tests/web/test_wallet_requests.py.)"""

from __future__ import annotations

import datetime
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from issuer.rules import BureauRuleError, EndorsementNotDueError
from wallet_api.errors import register_error_handlers

ROOT = Path(__file__).resolve().parents[2]


def served(error: Exception) -> dict[str, Any]:
    """What the wallet API's error handler answers for ``error``: {status, body}."""
    app = Flask(__name__)
    register_error_handlers(app)

    @app.post("/resident/requests")
    def refuse() -> None:
        raise error

    answer = app.test_client().post("/resident/requests", json={})
    return {"status": answer.status_code, "body": answer.get_json()}


def javascript(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    run = subprocess.run([node, str(ROOT / "tests" / "web" / "error_words_cases.mjs")], input=json.dumps(cases),
                         capture_output=True, text=True, timeout=60, check=False, cwd=ROOT / "web")
    assert run.returncode == 0, run.stderr
    answer: list[dict[str, Any]] = json.loads(run.stdout)
    return answer


def test_a_refusal_is_shown_in_the_services_chinese_first_then_english_and_an_early_endorsement_with_its_day() -> None:
    lapsed = BureauRuleError("endorsement_lapsed", "the permit ended more than one endorsement period ago")
    cases = {
        "lapsed": served(lapsed),
        "not due": served(EndorsementNotDueError(datetime.date(2027, 3, 1))),
        "conflict": served(BureauRuleError("request_conflict", "one open request per record")),
        "bare": {"status": 500, "body": {"error": "strange_failure"}},
    }
    said = dict(zip(cases, javascript(list(cases.values())), strict=True))
    zh = cases["lapsed"]["body"]["error_description_zh"]
    assert zh == "居住证到期已超过一个签注周期，请到派出所重新申领。"  # the code's words (error_words.py)
    both = f"{zh} — the permit ended more than one endorsement period ago"
    assert said["lapsed"] == {"error": "endorsement_lapsed", "zh": both, "en": both}  # Chinese first, in either
    assert said["not due"]["error"] == "endorsement_not_due"
    assert said["not due"]["zh"] == "尚未到签注办理期：2027-03-01 起可在网上申请签注。未提交任何申请。"
    assert said["not due"]["en"] == "Too early to endorse: you can ask for it online from 2027-03-01. No request was made."
    assert said["conflict"]["zh"] == "此证件已有一项正在办理的申请，请等待其办结。"  # the wallet's own words stand
    assert said["bare"] == {"error": "strange_failure", "zh": "出现错误，未做任何更改。",
                            "en": "Something went wrong; nothing was changed."}


def test_the_day_is_read_from_the_chinese_when_the_english_names_none() -> None:
    body = {"error": "endorsement_not_due", "error_description": "not yet", "error_description_zh": "签注将于 2027-05-02 起可办理"}
    [said] = javascript([{"status": 409, "body": body}])
    assert "2027-05-02" in said["zh"] and "2027-05-02" in said["en"]


def test_an_issuer_error_without_zh_shows_the_english_alone() -> None:
    [said] = javascript([{"status": 400, "body": {"error": "odd", "error_description": "odd thing"}}])
    assert said["zh"] == said["en"] == "odd thing"
