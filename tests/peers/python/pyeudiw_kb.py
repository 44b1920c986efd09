"""pyeudiw (the Italian EUDI wallet relying party library) checks an epermit SD-JWT+KB: the issuer signature
with the key we hand it, the KB-JWT's audience, nonce and sd_hash, and its signature by the cnf key.

Run by tests/peers/test_pyeudiw_peer.py in .venv-peers (pyeudiw cannot share the project's environment).
argv[1]: JSON {"presentation", "issuer_jwk", "aud", "nonce"}; stdout: JSON {"ok", "claims" | "step", "error"}.
"""

import json
import sys

from pyeudiw.sd_jwt.sd_jwt import SdJwt


def main() -> None:
    args = json.loads(sys.argv[1])
    step = "parse"
    try:
        sd_jwt = SdJwt(args["presentation"])
        step = "issuer signature"
        sd_jwt.verify_issuer_jwt_signature(args["issuer_jwk"])
        step = "key binding"
        sd_jwt.verify_holder_kb_jwt({"aud": args["aud"], "nonce": args["nonce"]})
        result = {"ok": True, "claims": sorted(sd_jwt.get_disclosed_claims()), "kb": sd_jwt.has_key_binding()}
    except Exception as exc:  # the peer's refusal, whatever its class, is the result
        result = {"ok": False, "step": step, "error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(result))


main()
