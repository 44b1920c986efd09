"""`epermit wallet --home DIR present <OpenID4VP request URI>`: answer a verifier's presentation request.

    epermit wallet --home DIR present 'openid4vp://?client_id=x509_san_dns%3A…&request_uri=https%3A…'
                   [--ca FILE] [--credential NUMBER] [--yes | --no] [--passphrase-file FILE]

The request is shown (who asks, proved by its certificate; which claims) in Chinese and English, and the
resident is asked before anything is sent: ``--yes`` consents without asking (tests, scripts), ``--no``
refuses (the verifier is told ``access_denied``); without either, a terminal prompt, and no terminal is a
usage error rather than a silent answer. ``--ca`` is the CA this wallet trusts for https and for the
verifier's certificate (the demo's tls-ca.pem); with no ``--ca`` no verifier can be trusted.
Exit 0 when presented or refused as asked; 1 when the request is refused (untrusted verifier, no matching
credential, the verifier's refusal); 2 for usage and network errors.
"""

from __future__ import annotations

import argparse
import os
import ssl
import sys
import time
from pathlib import Path

from epermit.cli.harness import EXIT_OK, Subparsers, guarded
from epermit.errors import UsageError
from epermit.wallet.held import HeldCredential
from epermit.wallet.home import WalletHome, default_home, read_wallet_passphrase
from epermit.wallet.presenting import Consent, Presenter, claim_labels, load_trust_anchors
from keys.keystore import read_small_file
from verifier.openid4vp import AuthorizationRequest, CredentialQuery
from verifier.report import escaped

MAX_CA_FILE = 64 * 1024


def add_present_command(commands: Subparsers[argparse.ArgumentParser]) -> None:
    present = commands.add_parser("present", help="show a credential to an online verifier (OpenID4VP)")
    present.add_argument("link", help="the verifier's openid4vp:// URI (its QR) or https same-device link")
    present.add_argument("--ca", type=Path, metavar="FILE",
                         help="trust this CA certificate (PEM) for https and for the verifier's certificate")
    present.add_argument("--credential", metavar="NUMBER",
                         help="the document number to show (default: the first credential that answers the request)")
    answer = present.add_mutually_exclusive_group()
    answer.add_argument("--yes", action="store_true", help="consent without asking")
    answer.add_argument("--no", action="store_true", help="refuse: the verifier is told access_denied")
    present.add_argument("--timeout", type=float, default=10.0, help="seconds per request (default 10)")
    present.add_argument("--passphrase-file", metavar="FILE", type=Path,
                         help="file holding the device key's passphrase (default $EPERMIT_WALLET_PASSPHRASE, "
                              "else a prompt)")
    present.set_defaults(handler=guarded("wallet present", _present))


def describe(request: AuthorizationRequest, query: CredentialQuery, credential: str) -> list[str]:
    names = " ".join(escaped(n) for n in (request.name_zh, request.name_en) if n) or "—"
    return [
        f"请求方 Verifier: {names}",
        f"  已验证域名 verified host: {escaped(request.host)} (证书 certificate: {escaped(request.certificate_subject)})",
        f"出示证件 Credential: {credential}",
        f"将披露 Will disclose: {', '.join(claim_labels(query))}",
        "  (另含证件类型与有效期 plus the document type and validity)",
    ]


def _consent(args: argparse.Namespace) -> Consent:
    def ask(request: AuthorizationRequest, held: HeldCredential, query: CredentialQuery) -> bool:
        kind = held.credential_type
        credential = f"{kind.name_zh} {kind.name_en} {held.document_number}"
        for line in describe(request, query, credential):
            print(line)
        if args.yes or args.no:
            return bool(args.yes)
        if not sys.stdin.isatty():
            raise UsageError("consent needs a terminal: give --yes to present or --no to refuse")
        return input("同意出示？Share these claims? [y/N] ").strip().lower() in ("y", "yes", "是")

    return ask


def _present(args: argparse.Namespace) -> int:
    home = WalletHome(args.home if args.home is not None else default_home(os.environ))
    anchors = [] if args.ca is None else load_trust_anchors(read_small_file(args.ca, MAX_CA_FILE))
    tls = ssl.create_default_context(cafile=str(args.ca)) if args.ca is not None else None
    presenter = Presenter(home, trust_anchors=anchors, tls=tls, timeout=args.timeout)

    def passphrase() -> bytes:
        return read_wallet_passphrase(env=os.environ, passphrase_file=args.passphrase_file)

    done = presenter.present(args.link, consent=_consent(args), passphrase=passphrase, now=int(time.time()),
                            document=args.credential)
    if not done.consented:
        print(f"已拒绝，已告知 {escaped(done.request.host)} declined: the verifier was told access_denied")
        return EXIT_OK
    print(f"已出示 presented to {escaped(done.request.host)}")
    if done.redirect_uri is not None:
        print(f"下一步 next: {escaped(done.redirect_uri)}")
    return EXIT_OK
