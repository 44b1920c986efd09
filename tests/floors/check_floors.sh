#!/usr/bin/env bash
# The verifier-only install at exactly its floors: every runtime dependency of pyproject.toml pinned to the
# version after its ">=", in a throwaway venv, then the verifier-side tests (tests/credential, tests/verifier)
# run there. A floor the code has outgrown fails here instead of on a user's machine.
#
#   tests/floors/check_floors.sh            (PYTHON=python3.11 to choose the interpreter; needs the package index)
#
# The test tools come as the dev extra states them; qrcode (a server dependency) at its floor, because the
# verifier tests draw their QR images with it.
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-python3}

venv=$(mktemp -d)/floors-venv
trap 'rm -rf "$(dirname "$venv")"' EXIT

mapfile -t requirements < <("$PYTHON" - <<'PY'
import re
import tomllib

with open("pyproject.toml", "rb") as handle:
    project = tomllib.load(handle)["project"]


def name(spec: str) -> str:
    return re.split(r"[<>=!~;\[ ]", spec, maxsplit=1)[0].lower()


def at_floor(spec: str) -> str:
    if ";" in spec or ">=" not in spec:
        raise SystemExit(f"no plain floor to pin in {spec!r}")
    return spec.replace(">=", "==")


runtime = [at_floor(spec) for spec in project["dependencies"]]
server = {name(spec): spec for spec in project["optional-dependencies"]["server"]}
dev = {name(spec): spec for spec in project["optional-dependencies"]["dev"]}
for requirement in [*runtime, at_floor(server["qrcode"]), *(dev[tool] for tool in ("pytest", "hypothesis", "pyjwt", "sd-jwt"))]:
    print(requirement)
PY
)

echo "floors venv: ${requirements[*]}"
"$PYTHON" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${requirements[@]}"
"$venv/bin/python" -m pip list --disable-pip-version-check 2>/dev/null \
    | grep -iE '^(cryptography|cbor2|zxing-cpp|pillow|qrcode) ' || true
"$venv/bin/python" -m pytest -q -p no:cacheprovider tests/credential tests/verifier
