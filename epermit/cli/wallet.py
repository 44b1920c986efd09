"""`epermit wallet`: the resident's wallet on the command line (epermit.wallet), for power users and tests.

    epermit wallet --home DIR pickup (PICKUP_URL | OFFER_URI) --pin PIN [--ca FILE] [--root FILE]
    epermit wallet --home DIR list
    epermit wallet --home DIR show [--credential NUMBER] [--view basic|full] [--live] [--nonce TEXT] [--png FILE]
        (--png: with the portrait code beside the pass, when the credential has a portrait)
    epermit wallet --home DIR status [--credential NUMBER] [--ca FILE] [--root FILE]
    epermit wallet --home DIR present OPENID4VP_URI [--ca FILE] [--yes | --no]   (epermit.cli.present)
    epermit wallet --home DIR request endorse|lost|address|deregister [options]   (epermit.cli.online)
    epermit wallet --home DIR requests | refresh

``--home`` defaults to $EPERMIT_WALLET_HOME, else ~/.local/share/epermit/wallet. The device key's passphrase
comes from EPERMIT_WALLET_PASSPHRASE, ``--passphrase-file`` or a prompt (never a default); only pickup and
``show --live`` need it. ``--ca`` trusts a private CA for https (the demo's tls-ca.pem); ``--root`` pins the
bureau's root certificate for ``status`` and as the anchor of its issuer's login (epermit.wallet.anchors;
once: it is kept in the wallet). Exit codes: epermit.cli.harness
(``status`` exits 1 for anything but VALID; a wrong PIN exits 1 and says how many attempts are left).
"""

from __future__ import annotations

import argparse
import datetime
import os
import ssl
import sys
import time
from pathlib import Path

from credential.passclaims import CHINA_STANDARD_TIME, PassView
from epermit.cli.harness import EXIT_OK, EXIT_REFUSED, Subparsers, guarded
from epermit.cli.online import add_online_commands
from epermit.cli.present import add_present_command
from epermit.errors import UsageError
from epermit.wallet import (
    CredentialStatus,
    HeldCredential,
    OpenId4VciClient,
    Wallet,
    WalletHome,
    read_wallet_passphrase,
)
from epermit.wallet.display import write_pass_and_portrait_png, write_qr_png
from epermit.wallet.home import default_home
from keys.keystore import read_small_file
from verifier.report import MEANINGS, ago
from verifier.result import Result

MAX_ROOT_FILE = 64 * 1024
_STATES = {
    Result.VALID: "有效 valid",
    Result.SUSPENDED: "已暂停 suspended",
    Result.REVOKED: "已吊销 revoked",
    Result.EXPIRED: "已过期 expired",
}


def add_wallet_commands(subparsers: Subparsers[argparse.ArgumentParser]) -> None:
    wallet = subparsers.add_parser("wallet", help="the resident's wallet: pick up, list, show the QR, check status")
    wallet.add_argument("--home", type=Path, metavar="DIR",
                        help="the wallet folder (default $EPERMIT_WALLET_HOME or ~/.local/share/epermit/wallet)")
    commands = wallet.add_subparsers(dest="wallet_command", required=True)

    pickup = commands.add_parser("pickup", help="pick a credential up with the link or QR text and the PIN")
    pickup.add_argument("link", help="the pickup page URL (https://.../pickup/...) or an openid-credential-offer:// URI")
    pickup.add_argument("--pin", help="the PIN (取证密码) the officer gave you")
    _network(pickup)
    _passphrase(pickup)
    pickup.set_defaults(handler=guarded("wallet pickup", _pickup))

    listing = commands.add_parser("list", help="the credentials this wallet holds")
    listing.set_defaults(handler=guarded("wallet list", _list))

    show = commands.add_parser("show", help="print the QR text (basic view unless --view full)")
    _credential(show)
    show.add_argument("--view", choices=[v.value for v in PassView], default=PassView.BASIC.value,
                      help="basic (name, document, validity: the default) or full (every field of the card)")
    show.add_argument("--live", action="store_true", help="sign a fresh holder proof now (a verifier sees it live)")
    show.add_argument("--nonce", help="the verifier's nonce to put into the live proof (UTF-8)")
    show.add_argument("--png", type=Path, metavar="FILE",
                      help="also write the QR as a PNG image (0600), with the portrait code beside it when the "
                           "credential has a portrait: one camera frame holds both")
    _passphrase(show)
    show.set_defaults(handler=guarded("wallet show", _show))

    status = commands.add_parser("status", help="sync the credential's status and say valid, suspended, revoked")
    _credential(status)
    _network(status)
    status.set_defaults(handler=guarded("wallet status", _status))

    add_present_command(commands)  # OpenID4VP: epermit.cli.present
    add_online_commands(commands, network=_network, passphrase=_passphrase)  # request, requests, refresh


def _network(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ca", type=Path, metavar="FILE", help="trust this CA certificate (PEM) for https")
    parser.add_argument("--root", type=Path, metavar="FILE",
                        help="the bureau's root certificate (PEM), pinned in the wallet for status checks and "
                             "its issuer's OpenID4VP login")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request (default 10)")


def _passphrase(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--passphrase-file", type=Path, metavar="FILE",
                        help="file holding the device key's passphrase (default $EPERMIT_WALLET_PASSPHRASE, "
                             "else a prompt)")


def _credential(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--credential", metavar="NUMBER",
                        help="the document number (default: the credential picked up last)")


def _home(args: argparse.Namespace, *, create: bool = False) -> WalletHome:
    return WalletHome(args.home if args.home is not None else default_home(os.environ), create=create)


def _client(args: argparse.Namespace) -> OpenId4VciClient:
    tls = ssl.create_default_context(cafile=str(args.ca)) if args.ca is not None else None
    return OpenId4VciClient(tls=tls, timeout=args.timeout)


def _root(args: argparse.Namespace) -> bytes | None:
    return None if args.root is None else read_small_file(args.root, MAX_ROOT_FILE)


def _day(timestamp: int) -> str:
    return datetime.datetime.fromtimestamp(timestamp, CHINA_STANDARD_TIME).date().isoformat()


def _encodings(held: HeldCredential) -> str:
    names = [f"QR pass ({view.value})" for view in held.views]
    return ", ".join((["SD-JWT VC"] if held.sd_jwt_vc else []) + names)


def _pickup(args: argparse.Namespace) -> int:
    root = _root(args)
    home = _home(args, create=True)
    if root is not None:
        home.verifier_cache().pin_root(root)
    wallet = Wallet(home, _client(args))
    held = wallet.pick_up(args.link, args.pin, lambda confirm: read_wallet_passphrase(
        env=os.environ, passphrase_file=args.passphrase_file, confirm=confirm))
    kind = held.credential_type
    print(f"picked up {held.document_number} {kind.name_zh} {kind.name_en} of {held.name} {held.name_pinyin}, "
          f"valid {held.valid_from} to {held.valid_until} ({_encodings(held)})")
    if wallet.client.recovery_code is not None:  # shown once: the service keeps only a keyed hash
        print(f"恢复码 recovery code: {wallet.client.recovery_code} — 请抄写保存，手机丢失时凭此码挂失 "
              f"(write it down: it reports a lost phone from a new one; it is shown only now)")
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    held = _home(args).credentials()
    for credential in held:
        kind = credential.credential_type
        print(f"{credential.document_number}\t{kind.name_zh} {kind.name_en}\t{credential.name} {credential.name_pinyin}"
              f"\t{credential.valid_from} to {credential.valid_until}\t{_encodings(credential)}"
              f"\tpicked up {_day(credential.picked_up_at)}")
    print(f"{len(held)} credential(s)", file=sys.stderr)
    return EXIT_OK


def _show(args: argparse.Namespace) -> int:
    if args.nonce is not None and not args.live:
        raise UsageError("--nonce goes into a live proof: give --live too")
    wallet = Wallet(_home(args), OpenId4VciClient())
    text = wallet.qr_text(
        document=args.credential, view=PassView(args.view), live=args.live, now=int(time.time()),
        nonce=None if args.nonce is None else args.nonce.encode("utf-8"),
        passphrase=lambda confirm: read_wallet_passphrase(env=os.environ, passphrase_file=args.passphrase_file,
                                                          confirm=confirm))
    print(text)
    portrait = wallet.portrait(document=args.credential) if args.png is not None else None
    if args.png is not None and portrait is not None:
        version, portrait_version = write_pass_and_portrait_png(text, portrait, args.png)
        print(f"wrote {args.png} (QR version {version}; portrait code version {portrait_version}, "
              f"{len(portrait)} bytes)", file=sys.stderr)
    elif args.png is not None:
        version = write_qr_png(text, args.png)
        print(f"wrote {args.png} (QR version {version})", file=sys.stderr)
    return EXIT_OK


def _status_lines(found: CredentialStatus) -> list[str]:
    held, outcome = found.held, found.outcome
    kind = held.credential_type
    state = _STATES.get(outcome.result, f"{outcome.result.value} — {MEANINGS[outcome.result]}")
    if found.expires_soon:
        state = f"有效，即将到期 valid, expires soon: ask for the endorsement (签注) or a new {kind.name_en.lower()}"
    lines = [f"{held.document_number} {kind.name_zh} {kind.name_en}: {state} (valid until {held.valid_until})"]
    if outcome.result not in _STATES:
        lines.append(f"  {outcome.reason}")
    freshness = []
    if outcome.status_age_seconds is not None:
        freshness.append(f"revocation data updated {ago(outcome.status_age_seconds)}")
    if outcome.trust_age_seconds is not None:
        freshness.append(f"trust list updated {ago(outcome.trust_age_seconds)}")
    if freshness:
        lines.append("  " + "; ".join(freshness))
    if found.sync_problem:
        lines.append(f"  ⚠ could not sync ({found.sync_problem}): this is what the wallet held before")
    return lines


def _status(args: argparse.Namespace) -> int:
    now = int(time.time())
    found = Wallet(_home(args), _client(args)).status(document=args.credential, root_pem=_root(args), now=now)
    for line in _status_lines(found):
        print(line)
    return EXIT_OK if found.ok else EXIT_REFUSED
