"""`epermit employer-demo`: an employer's online check of a residence credential (OpenID4VP 1.0), on https.

    epermit employer-demo --wallet-api https://127.0.0.1:8081 --ca DIR/tls-ca.pem --root DIR/root.pem
                          [--port 8444] [--out DIR]

``--wallet-api``: where the trust list and status lists are synced from (the issuer: also the ``vct`` the
request asks for); ``--ca``: the CA its https certificate is from (the demo's tls-ca.pem); ``--root``: the
bureau's root certificate, pinned in the employer's verifier cache (``--out``/verifier-cache) the first time.
Writes ``employer-ca.pem`` and ``trust-bundle.pem`` into ``--out`` (give the bundle to `epermit wallet present
--ca`), prints the page's URL and serves until Ctrl-C.
"""

from __future__ import annotations

import argparse
import ssl
import time
from pathlib import Path

from epermit.cli.harness import EXIT_OK, Subparsers, guarded
from epermit.errors import UsageError
from issuer.settings import system_clock
from keys.keystore import read_small_file
from verifier.cache import VerifierCache

MAX_PEM = 64 * 1024


def add_employer_command(subparsers: Subparsers[argparse.ArgumentParser]) -> None:
    employer = subparsers.add_parser("employer-demo",
                                     help="an employer's online check of a residence credential (OpenID4VP)")
    employer.add_argument("--port", type=int, default=8444, help="https port on localhost (default 8444)")
    employer.add_argument("--wallet-api", required=True, metavar="URL",
                          help="the wallet API (issuer) to sync trust and status from, e.g. https://127.0.0.1:8081")
    employer.add_argument("--ca", type=Path, metavar="FILE", help="the CA certificate of the wallet API's https")
    employer.add_argument("--root", type=Path, metavar="FILE", help="the bureau's root certificate (first run)")
    employer.add_argument("--out", type=Path, default=Path("employer-demo"),
                          help="folder for the verifier cache and the CA files (default ./employer-demo)")
    employer.set_defaults(handler=guarded("employer-demo", _employer_demo))


def _employer_demo(args: argparse.Namespace) -> int:
    from epermit.employer.serve import open_employer, write_trust_files  # flask: loaded for this command only

    if not args.wallet_api.startswith("https://"):
        raise UsageError("--wallet-api must be an https URL")
    ca_pem = None if args.ca is None else read_small_file(args.ca, MAX_PEM)
    tls = None if ca_pem is None else ssl.create_default_context(cadata=ca_pem.decode("ascii"))
    root = None if args.root is None else read_small_file(args.root, MAX_PEM)
    args.out.mkdir(mode=0o700, parents=True, exist_ok=True)
    demo = open_employer(wallet_api=args.wallet_api.rstrip("/"), wallet_tls=tls,
                         cache=VerifierCache(args.out / "verifier-cache"), clock=system_clock, root_pem=root,
                         port=args.port)
    own, bundle = write_trust_files(demo, args.out, ca_pem)
    print(f"员工证件在线核验 employer check: {demo.url}/\n"
          f"   the wallet trusts this verifier with --ca {bundle} (its CA alone: {own})\n"
          f"   epermit wallet --home WALLET present '<the page's openid4vp:// link>' --ca {bundle}\n"
          "   (Ctrl-C stops)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("\nstopping")
    finally:
        demo.stop()
    return EXIT_OK
