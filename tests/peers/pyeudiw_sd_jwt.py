"""Peer: pyeudiw (the Italian IT-Wallet relying-party toolkit) verifies SD-JWT VC presentations.

Runs in its own venv (tests/peer_venv.py). Request: {"issuer_jwk": {...with kid}, "cases": [{"presentation",
"aud", "nonce"}]}. Answer: {"results": [{"ok": bool, "error": str, "claims": [names]}]}, one per case.
"""

import json
import sys
import warnings

warnings.simplefilter("ignore")  # cryptojwt's deprecation warnings about curves we never use

from pyeudiw.sd_jwt.sd_jwt import SdJwt  # noqa: E402


def verify(case, issuer_jwk):
    token = SdJwt(case["presentation"])
    token.verify_issuer_jwt_signature(issuer_jwk)
    if not token.has_key_binding():  # pyeudiw passes a presentation without KB-JWT: ask for one ourselves
        raise ValueError("no KB-JWT")
    token.verify_holder_kb_jwt({"aud": case["aud"], "nonce": case["nonce"]})
    return sorted(token.get_disclosed_claims())


def main():
    request = json.load(sys.stdin)
    results = []
    for case in request["cases"]:
        try:
            results.append({"ok": True, "error": "", "claims": verify(case, request["issuer_jwk"])})
        except Exception as exc:  # the peer's verdict, whatever it raises
            results.append({"ok": False, "error": f"{type(exc).__name__}: {exc}", "claims": []})
    json.dump({"results": results}, sys.stdout)


main()
