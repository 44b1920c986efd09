"""`epermit wallet request|requests|refresh`: the resident's online requests (epermit.wallet.requests).

    epermit wallet --home DIR request endorse [--credential NUMBER]
    epermit wallet --home DIR request address --address TEXT [--district CODE] [--credential NUMBER]
    epermit wallet --home DIR request deregister [--credential NUMBER]
    epermit wallet --home DIR request lost --citizen-id ID --recovery-code CODE --issuer URL   (a new folder)
    epermit wallet --home DIR requests          every request of this folder, its state and the next step
    epermit wallet --home DIR request lost ... --send-code    also a one-time code to the registered phone number
    epermit wallet --home DIR refresh [--code CODE]   pick up the credentials of the approved requests (--code:
                                                      a lost phone's one-time code approves its re-delivery)

Each answer is printed in Chinese, then English. ``--issuer`` (the Credential Issuer URL, e.g. the demo's
wallet API) is needed only by ``lost``: a new phone holds no credential to take it from. Exit 1 when the
service refuses (the reason is printed), 0 otherwise.
"""

from __future__ import annotations

import argparse
import os
import ssl
from collections.abc import Callable
from typing import Any

from epermit.cli.harness import EXIT_OK, Subparsers, guarded
from epermit.cli.present import MAX_CA_FILE
from epermit.errors import UsageError
from epermit.wallet import OpenId4VciClient, Wallet, WalletHome, read_wallet_passphrase
from epermit.wallet.anchors import issuer_login_anchors
from epermit.wallet.home import default_home
from epermit.wallet.presenting import Presenter, load_trust_anchors
from epermit.wallet.requests import ResidentRequestsClient
from epermit.wallet.wallet import PassphraseSource
from keys.keystore import read_small_file

Options = Callable[[argparse.ArgumentParser], None]
MAX_ROOT_FILE = 64 * 1024


def add_online_commands(commands: Subparsers[argparse.ArgumentParser], *, network: Options,
                        passphrase: Options) -> None:
    ask = commands.add_parser("request", help="ask online: endorse (签注), lost phone, address change, deregister (注销)")
    ask.add_argument("kind", choices=["endorse", "lost", "address", "deregister"])
    ask.add_argument("--credential", metavar="NUMBER", help="the document number (default: the one picked up last)")
    ask.add_argument("--address", help="address: the new address")
    ask.add_argument("--district", help="address: the new district's six-digit code (default: the same district)")
    ask.add_argument("--citizen-id", help="lost: your citizen ID")
    ask.add_argument("--recovery-code", help="lost: the recovery code you were given at the first pickup")
    ask.add_argument("--issuer", help="lost: the issuer's URL (the new wallet holds no credential yet)")
    ask.add_argument("--send-code", action="store_true",
                     help="lost: also send a one-time code to the registered phone number (then refresh --code)")
    network(ask)
    passphrase(ask)
    ask.set_defaults(handler=guarded("wallet request", _request))

    follow = commands.add_parser("requests", help="my requests: their state and what to do next")
    network(follow)
    passphrase(follow)
    follow.set_defaults(handler=guarded("wallet requests", _requests))

    refresh = commands.add_parser("refresh", help="pick up the renewed credentials of approved requests")
    refresh.add_argument("--code", help="a lost phone: the one-time code sent to your phone number (no officer needed)")
    network(refresh)
    passphrase(refresh)
    refresh.set_defaults(handler=guarded("wallet refresh", _refresh))


def _online(args: argparse.Namespace, *, create: bool = False) -> ResidentRequestsClient:
    home = WalletHome(args.home if args.home is not None else default_home(os.environ), create=create)
    if args.root is not None:  # as at pickup: pinned once, another root refused
        home.verifier_cache().pin_root(read_small_file(args.root, MAX_ROOT_FILE))
    tls = ssl.create_default_context(cafile=str(args.ca)) if args.ca is not None else None
    # The service's login request (x509_san_dns) is signed under a certificate from the bureau's root, which
    # the wallet pinned at pickup: trusted for its own issuer's login only (epermit.wallet.anchors). The CAs
    # in --ca are trusted for it too (the demo's loopback CA signs its TLS and its login alike). Neither:
    # the wallet trusts no verifier and presents per request instead (a presentation bound to the service).
    ca_anchors = [] if args.ca is None else load_trust_anchors(read_small_file(args.ca, MAX_CA_FILE))
    own = issuer_login_anchors(home)
    presenter = Presenter(home, trust_anchors=ca_anchors, issuer_anchors=own, tls=tls, timeout=args.timeout) \
        if ca_anchors or own else None
    return ResidentRequestsClient(Wallet(home, OpenId4VciClient(tls=tls, timeout=args.timeout)), presenter=presenter)


def _passphrase(args: argparse.Namespace) -> PassphraseSource:
    return lambda confirm: read_wallet_passphrase(env=os.environ, passphrase_file=args.passphrase_file,
                                                  confirm=confirm)


def _say(answer: dict[str, Any]) -> None:
    request, message = answer.get("request") or {}, answer.get("message") or {}
    print(f"{request.get('id')}\t{request.get('kind')}\t{request.get('state')}")
    print(f"  {message.get('zh', '')}")
    print(f"  {message.get('en', '')}")


def _request(args: argparse.Namespace) -> int:
    if args.kind == "lost":
        if not (args.citizen_id and args.recovery_code and args.issuer):
            raise UsageError("request lost needs --citizen-id, --recovery-code and --issuer")
        online = _online(args, create=True)
        _say(online.report_lost(args.issuer.rstrip("/"), citizen_id=args.citizen_id, recovery_code=args.recovery_code))
        if args.send_code:
            message = online.send_code(online.kept()[-1]).get("message") or {}
            print(f"  {message.get('zh', '')}\n  {message.get('en', '')}")
        return EXIT_OK
    online = _online(args)
    held = online.wallet.home.find(args.credential)
    body: dict[str, Any] = {}
    if args.kind == "address":
        if not args.address:
            raise UsageError("request address needs --address (and --district when the district changes)")
        body = {"address": args.address, **({"district": args.district} if args.district else {})}
    _say(online.ask(args.kind, held=held, passphrase=_passphrase(args), body=body))
    return EXIT_OK


def _requests(args: argparse.Namespace) -> int:
    online = _online(args)
    answers = online.follow()
    for answer in answers:
        _say(answer)
    held = online.wallet.home.credentials()
    if held:
        for note in online.notifications(held[-1], _passphrase(args))[:10]:
            message = note.get("message") or {}
            print(f"通知 notice {note.get('kind')}: {message.get('zh', '')} / {message.get('en', '')}")
    if not answers:
        print("没有申请 no requests")
    return EXIT_OK


def _refresh(args: argparse.Namespace) -> int:
    online = _online(args, create=True)
    if args.code:
        for answer in online.confirm_code(args.code):
            _say(answer)
    renewed = online.refresh(_passphrase(args))
    for held in renewed:
        kind = held.credential_type
        print(f"renewed {held.document_number} {kind.name_zh} {kind.name_en}, valid {held.valid_from} to "
              f"{held.valid_until}")
    if online.recovery_code is not None:
        print(f"新恢复码 new recovery code: {online.recovery_code} — 请抄写保存 (write it down: shown only now)")
    if not renewed:
        print("没有可领取的新证件 nothing to pick up yet")
    return EXIT_OK
