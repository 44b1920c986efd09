"""pyeudiw's DCQL response handler (DuckleHandler, the IT-Wallet relying party's OpenID4VP verifier) checks an
epermit vp_token: the query ids, the issuer signature (key given by a fixed trust evaluator), the KB-JWT's
aud (our client_id, prefix included) and nonce, the expiry, and the status list it fetches from our issuer.

Run by tests/peers/test_pyeudiw_vp_peer.py in .venv-peers. argv[1]: JSON {"vp_token": {id: presentation},
"dcql_query", "client_id", "nonce", "issuer_jwk"}; stdout: JSON {"ok", "claims" | "step", "error"}.
"""

import importlib.abc
import importlib.machinery
import json
import sys
import types

# pyeudiw's DCQL handler imports its SATOSA frontend and MongoDB storage modules at import time (for the
# trust evaluators and their type hints); the code under test uses neither, since the issuer key is given by
# FixedTrust below. Those two packages (and their own large dependency trees) are stood in for by empty
# modules instead of being installed into .venv-peers.
STOOD_IN = ("satosa", "pymongo")


class _StandIn(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in STOOD_IN:
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):
        module = types.ModuleType(spec.name)
        module.__path__ = []
        module.__getattr__ = lambda attribute: type(attribute, (), {})
        return module

    def exec_module(self, module):
        return None


sys.meta_path.insert(0, _StandIn())

from pyeudiw.duckle_ql.handler import DuckleHandler  # noqa: E402 - after the stand-ins


class FixedTrust:
    """The issuer key handed to us, whatever pyeudiw's trust sources would say (they are not under test)."""

    def __init__(self, jwk: dict) -> None:
        self.jwk = jwk

    def get_public_keys(self, issuer: str, static_trust_materials: dict) -> list:
        return [self.jwk]


def main() -> None:
    args = json.loads(sys.argv[1])
    step = "setup"
    try:
        handler = DuckleHandler(FixedTrust(args["issuer_jwk"]), ["ES256"], dcql_query=args["dcql_query"])
        step = "validate"
        handler.validate(args["vp_token"], args["client_id"], args["nonce"])
        step = "parse"
        result = {"ok": True, "claims": handler.parse(args["vp_token"])}
    except Exception as exc:  # the peer's refusal, whatever its class, is the result
        result = {"ok": False, "step": step, "error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(result, ensure_ascii=False))


main()
