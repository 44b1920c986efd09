"""The portrait code twins, credential/portraitcode.py and web/src/portraitcode.js, give the same check for
every case of portrait_codes.json; the face comes back only when verified, and is P byte for byte."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from credential.errors import MalformedError, TooLargeError
from credential.portraitcode import (
    MAX_PORTRAIT_CODE,
    PortraitCheck,
    check_portrait,
    decode_portrait_code,
    encode_portrait_code,
)

HERE = Path(__file__).parent
CASES: list[dict[str, Any]] = json.loads((HERE / "portrait_codes.json").read_text("utf-8"))["cases"]


def python_answer(case: dict[str, Any]) -> dict[str, Any]:
    digest = None if case["digest"] is None else bytes.fromhex(case["digest"])
    outcome = check_portrait([bytes.fromhex(code) for code in case["codes"]], digest)
    return {"check": outcome.check.value, "media_type": outcome.media_type,
            "image": None if outcome.image is None else outcome.image.hex(), "reason": outcome.reason}


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_python_twin(case: dict[str, Any]) -> None:
    answer = python_answer(case)
    assert answer["check"] == case["check"], answer["reason"]
    assert answer["media_type"] == case.get("media_type")
    if case["check"] == "verified":
        assert sha256_hex(answer["image"]) == case["digest"]
    else:
        assert answer["image"] is None  # nothing unverified is handed to a screen


def sha256_hex(image_hex: str) -> str:
    return hashlib.sha256(bytes.fromhex(image_hex)).hexdigest()


def test_javascript_twin_agrees() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    run = subprocess.run([node, str(HERE / "portrait_codes.mjs")], capture_output=True, text=True, timeout=60,
                         check=False)
    assert run.returncode == 0, run.stderr
    answers = json.loads(run.stdout)
    assert answers == {case["name"]: python_answer(case) for case in CASES}  # check, type, bytes and reason


def test_encoding_refuses_what_no_decoder_accepts() -> None:
    face = bytes.fromhex(CASES[0]["codes"][0])
    assert encode_portrait_code(face) == face  # byte mode: P itself
    assert decode_portrait_code(face) == ("image/webp", face)
    with pytest.raises(TooLargeError):
        encode_portrait_code(face + bytes(MAX_PORTRAIT_CODE))
    with pytest.raises(MalformedError, match="not one of"):
        encode_portrait_code(b"GIF89a" + bytes(10))


def test_the_checks_are_the_three_json_words() -> None:
    assert [c.value for c in PortraitCheck] == ["verified", "absent", "mismatch"]
