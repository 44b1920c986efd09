"""verifier.report: the human report's pieces, one age formatter for reasons and report alike."""

from __future__ import annotations

import pytest

from verifier.report import ADVICE, MEANINGS, age_text, ago, mask_citizen_id, one_line, render
from verifier.result import Result, VerificationResult


def test_mask_citizen_id() -> None:
    assert mask_citizen_id("410102199003151230") == "410102********1230"
    assert mask_citizen_id("short") == "*****"


@pytest.mark.parametrize(("seconds", "text", "when"), [
    (0, "0 min", "just now"),
    (59, "0 min", "just now"),
    (60, "1 min", "1 min ago"),
    (3599, "59 min", "59 min ago"),
    (3600, "1 h", "1 h ago"),
    (2 * 86400 - 1, "47 h", "47 h ago"),
    (2 * 86400, "2 d", "2 d ago"),
])
def test_age_text_and_ago(seconds: int, text: str, when: str) -> None:
    assert age_text(seconds) == text and ago(seconds) == when


def test_every_result_has_a_meaning() -> None:
    assert set(MEANINGS) == set(Result)


def test_one_line_strips_control_characters_and_caps_length() -> None:
    assert one_line("a\nb\x1b[31m\tc") == "a b [31m c"
    assert len(one_line("x" * 1000)) == 300


def test_render_masks_and_orders_the_claims() -> None:
    outcome = VerificationResult(
        result=Result.VALID, reason="genuine", format="qr_pass", live=True, issuer_kid="k1",
        authority_name="北京市公安局朝阳分局", trust_age_seconds=7200, status_age_seconds=30,
        claims={"type": "residence_permit", "document_number": "B1", "name": "张伟", "citizen_id": "410102199003151230",
                "sex": 1, "zz_extra": "x"},
    )
    lines = render(outcome).splitlines()
    assert lines[0] == "✔ VALID (live) — 有效"
    body = [line.strip() for line in lines]
    order = ["姓名 Name: 张伟", "性别 Sex: 男 Male", "公民身份号码 Citizen ID number: 410102********1230",
             "证件号码 Document number: B1", "zz_extra zz_extra: x"]  # FIELD_ORDER, then the rest by name
    assert [body.index(line) for line in order] == sorted(body.index(line) for line in order)
    assert body[-2:] == ["signed by a key of 北京市公安局朝阳分局 (kid k1)",
                         "revocation data updated just now; trust list updated 2 h ago"]
    assert "410102199003151230" in render(outcome, full=True)


def test_every_result_but_valid_has_plain_advice() -> None:
    assert set(ADVICE) == set(Result) - {Result.VALID}
    for zh, en in ADVICE.values():
        assert "：" in zh and ":" in en  # what it is, then what to do


def test_replayed_reads_as_advice_not_as_a_timestamp() -> None:
    outcome = VerificationResult(result=Result.REPLAYED, reason="proof time 1796287534 is more than 60 s from now",
                                 format="qr_pass", live=False, issuer_kid="k1", trust_age_seconds=60,
                                 claims={"type": "residence_permit", "name": "张伟"})
    text = render(outcome)
    assert "这个二维码是旧的截图或已过期：请持证人刷新后再扫" in text
    assert "This code is an old screenshot: ask the holder to refresh it" in text
    assert "1796287534" not in text and "proof time" not in text
