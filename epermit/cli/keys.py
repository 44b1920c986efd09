"""``epermit keys``: init, publish, rotate, revoke, prune, list, upgrade, login (docs/keys.md is the operator's guide).

The passphrase comes from ``--passphrase-file``, EPERMIT_KEY_PASSPHRASE, or a no-echo prompt on a terminal,
never from the command line (it would show in ``ps`` and shell history). A PKCS#11 PIN comes from
EPERMIT_PKCS11_PIN. Each command prints a few lines; a failure prints one line on stderr and exits as
epermit.cli.harness says (a key that cannot be used: 2).
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
import urllib.parse
from pathlib import Path

from credential.eku import DEFAULT_EKU_ARC
from epermit.cli.harness import Handler, Subparsers, guarded
from epermit.public_url import checked_public_url, remember_public_url, remembered_public_url
from keys.errors import KeyUnlockError
from keys.keydir import (
    add_portrait_key,
    add_store_secret,
    init_keys,
    issue_login_key,
    load_keyring,
    new_token_signer,
    save_keyring,
)
from keys.keyring import KeyRing, eku_arc_setting
from keys.keystore import SCRYPT_N, read_passphrase
from keys.login import LoginKey, LoginKeyError, checked_host, has_login_key, load_login_key
from keys.pkcs11_signer import PIN_ENV
from keys.publish import publish_trust_list
from keys.purpose import SIGNING_PURPOSES, Purpose
from keys.rotation import DEFAULT_LEAD_TIME, needs_replacement, prune, require_known, revoke, rotate

SCRYPT_COST = SCRYPT_N  # of keys written by rotate/revoke; tests lower it
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(text: str) -> int:
    """``24h``, ``90m``, ``2d``, ``3600s`` or ``3600`` -> seconds."""
    unit = _UNITS.get(text[-1:].lower(), 1) if text else 1
    number = text[:-1] if text[-1:].lower() in _UNITS else text
    if not (number.isascii() and number.isdigit()) or len(number) > 9:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 24h, 90m, 2d")
    return int(number) * unit


def add_keys_commands(subparsers: Subparsers[argparse.ArgumentParser]) -> Subparsers[argparse.ArgumentParser]:
    """Register ``keys ...``; each sets ``args.handler(args) -> exit status``.

    Returns the ``keys`` sub-commands, so the issuer can add ``keys affected`` (it needs the registry).
    """
    keys = subparsers.add_parser("keys", help="create, rotate and revoke keys; publish the trust list")
    commands = keys.add_subparsers(dest="keys_command", required=True)

    init = commands.add_parser("init", help="create a new key directory (root, credential and status keys)")
    _add_dir(init, "key directory to create (must not hold files)")
    init.add_argument("--authority-code", required=True, help="GB/T 2260 code of the authority, e.g. 110105")
    init.add_argument("--authority-name", required=True, help="name of the authority, e.g. 北京市公安局朝阳分局")
    init.add_argument("--eku-arc", default=DEFAULT_EKU_ARC, metavar="OID",
                      help="an OID arc this deployment owns; certificates name their purposes under it "
                           "(<arc>.1 credential, <arc>.2 status). Default: epermit's own UUID arc under 2.25")
    _add_token(init, "create the credential and status keys inside this PKCS#11 token")
    init.add_argument("--public-url", help="the wallet API's public https URL, remembered in the data folder "
                                           "that holds --dir (DIR/..) for the pickup links of `epermit issue`; "
                                           "also makes the login key, its certificate naming the URL's host")
    _set_handler(init, "init", _init)

    publish = commands.add_parser("publish", help="sign and write the trust list")
    _add_dir(publish)
    _add_publication(publish, required=True)
    publish.add_argument("--version", dest="trust_version", type=int,
                         help="trust list version (default: the unix time, above every version published)")
    _set_handler(publish, "publish", _publish)

    rot = commands.add_parser("rotate", help="add a new signing key, published before it signs")
    _add_dir(rot)
    rot.add_argument("--purpose", type=Purpose, choices=SIGNING_PURPOSES, default=Purpose.CREDENTIAL)
    rot.add_argument("--lead-time", type=duration, default=DEFAULT_LEAD_TIME,
                     help="how long the new key is published before it signs (default 24h)")
    _add_token(rot, "create the new key inside this PKCS#11 token")
    _add_publication(rot, required=False)
    _set_handler(rot, "rotate", _rotate)

    rev = commands.add_parser("revoke", help="mark a key compromised: verifiers reject what it signed")
    rev.add_argument("kid", help="the key id to revoke")
    rev.add_argument("--reason", required=True, help="why (kept in keyring.json), e.g. 'laptop stolen'")
    _add_dir(rev)
    _add_token(rev, "if the key still signs, create its replacement in this PKCS#11 token")
    _add_publication(rev, required=False)
    _set_handler(rev, "revoke", _revoke)

    prn = commands.add_parser("prune", help="drop keys whose certificate has ended")
    _add_dir(prn)
    _set_handler(prn, "prune", _prune)

    lst = commands.add_parser("list", help="show the keys, their state and window")
    _add_dir(lst)
    _set_handler(lst, "list", _list)

    upgrade = commands.add_parser("upgrade", help="add what a key directory from an older epermit lacks "
                                                  "(the store secret, the portrait key, the login key)")
    _add_dir(upgrade)
    upgrade.add_argument("--public-url", help="the wallet API's public https URL, for the login key's certificate "
                                              "(default: the one remembered in DIR/..)")
    _set_handler(upgrade, "upgrade", _upgrade)

    login = commands.add_parser("login", help="make a new login key and certificate (the residents' OpenID4VP "
                                              "login) for the public URL's host, e.g. after a host change")
    _add_dir(login)
    login.add_argument("--public-url", required=True, help="the wallet API's public https URL")
    _set_handler(login, "login", _login)
    return commands


def _add_dir(parser: argparse.ArgumentParser, text: str = "key directory") -> None:
    parser.add_argument("--dir", type=Path, required=True, help=text)
    parser.add_argument("--passphrase-file", type=Path,
                        help="file holding the key passphrase (default: $EPERMIT_KEY_PASSPHRASE, else a prompt)")


def _add_token(parser: argparse.ArgumentParser, text: str) -> None:
    parser.add_argument("--pkcs11", metavar="LIB", help=f"PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so: {text}")
    parser.add_argument("--token", metavar="LABEL", help=f"token label (with --pkcs11; PIN from ${PIN_ENV})")


def _add_publication(parser: argparse.ArgumentParser, *, required: bool) -> None:
    hint = "" if required else " (with --issuer: also publish the trust list)"
    parser.add_argument("--out", type=Path, required=required, help=f"where to write the trust list JWT{hint}")
    parser.add_argument("--issuer", required=required, help="public base URL of the issuer (the iss claim)")
    parser.add_argument("--status-list", dest="status_lists", action="extend", nargs="+", default=[],
                        metavar="URI", help="status list URIs to name (repeatable)")
    parser.add_argument("--aggregation-uri", help="URI of the status list aggregation document")
    parser.add_argument("--validity-days", type=int, default=30, help="days until the trust list's exp (default 30)")


def _set_handler(parser: argparse.ArgumentParser, name: str, handler: Handler) -> None:
    parser.set_defaults(handler=guarded(f"keys {name}", handler))


def _passphrase(args: argparse.Namespace, *, confirm: bool = False) -> bytes:
    return read_passphrase(env=os.environ, passphrase_file=args.passphrase_file, confirm=confirm)


def _token(args: argparse.Namespace) -> tuple[str, str, str] | None:
    if (args.pkcs11 is None) != (args.token is None):
        raise ValueError("--pkcs11 and --token go together")
    if args.pkcs11 is None:
        return None
    pin = os.environ.get(PIN_ENV)
    if not pin:
        raise KeyUnlockError(f"set {PIN_ENV} to the token's user PIN")
    return args.pkcs11, args.token, pin


def _when(unix: int) -> str:
    return datetime.datetime.fromtimestamp(unix, tz=datetime.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _init(args: argparse.Namespace) -> int:
    eku_arc = eku_arc_setting(args.eku_arc)  # before any prompt: a bad arc is refused at once
    public_url = None if args.public_url is None else checked_public_url(args.public_url)
    token = _token(args)
    passphrase = _passphrase(args, confirm=True)
    ring = init_keys(args.dir, passphrase, args.authority_code, args.authority_name, int(time.time()), token=token,
                     eku_arc=eku_arc, login_host=None if public_url is None else _login_host(public_url))
    where = f" in token {args.token!r}" if token else ""
    print(f"created {args.dir}: root {ring.root.kid}, credential {ring.signers_of(Purpose.CREDENTIAL)[0].kid}, "
          f"status {ring.signers_of(Purpose.STATUS)[0].kid}{where}; EKU arc {ring.eku_arc}")
    login = load_login_key(args.dir, passphrase)
    if login is not None:
        print(_login_line(login))
    if public_url is not None:
        print(f"public URL {public_url} remembered in {remember_public_url(args.dir.resolve().parent, public_url)}")
    return 0


def _maybe_publish(args: argparse.Namespace, ring: KeyRing, now: int) -> None:
    if args.out is None and args.issuer is None:
        print(f"publish the trust list now: epermit keys publish --dir {args.dir} --out ... --issuer ...")
        return
    if args.out is None or args.issuer is None:
        raise ValueError("--out and --issuer go together")
    _write_trust_list(args, ring, now, None)


def _write_trust_list(args: argparse.Namespace, ring: KeyRing, now: int, version: int | None) -> None:
    if args.validity_days < 1:
        raise ValueError("validity days must be positive")
    published = publish_trust_list(ring, args.dir, args.out, issuer=args.issuer, now=now, version=version,
                                   status_lists=args.status_lists, aggregation_uri=args.aggregation_uri,
                                   validity=args.validity_days * 86400)
    print(f"wrote trust list version {published.version} with {len(published.keys)} keys to {args.out}")


def _publish(args: argparse.Namespace) -> int:
    ring = load_keyring(args.dir, _passphrase(args))
    _write_trust_list(args, ring, int(time.time()), args.trust_version)
    return 0


def _rotate(args: argparse.Namespace) -> int:
    token = _token(args)
    ring = load_keyring(args.dir, passphrase := _passphrase(args))
    now = int(time.time())
    signer = None
    if token is not None:
        signer = new_token_signer(token, args.purpose)
    new = rotate(ring, args.purpose, now=now, lead_time=args.lead_time, signer=signer)
    if token is not None:
        ring.backends[new.kid] = signer.location  # type: ignore[union-attr]
    save_keyring(ring, args.dir, passphrase, scrypt_n=SCRYPT_COST, update=True)
    print(f"new {args.purpose} key {new.kid}: published from now, signs from {_when(now + args.lead_time)}; "
          f"the previous key signs until then")
    _maybe_publish(args, ring, now)
    return 0


def _revoke(args: argparse.Namespace) -> int:
    ring = load_keyring(args.dir, passphrase := _passphrase(args))
    purpose = require_known(ring, args.kid)
    now = int(time.time())
    if needs_replacement(ring, args.kid, now):  # a compromised key that signs is replaced at once: no lead time
        token = _token(args)
        signer = None
        if token is not None:
            signer = new_token_signer(token, purpose)
        new = rotate(ring, purpose, now=now, lead_time=0, signer=signer)
        if signer is not None:
            ring.backends[new.kid] = signer.location
        print(f"replaced {args.kid} with new {purpose} key {new.kid} (signs from now)")
    revoke(ring, args.kid, reason=args.reason, now=now)
    save_keyring(ring, args.dir, passphrase, scrypt_n=SCRYPT_COST, update=True)
    print(f"revoked {purpose} key {args.kid}: {' '.join(args.reason.split())}")
    _maybe_publish(args, ring, now)
    return 0


def _prune(args: argparse.Namespace) -> int:
    ring = load_keyring(args.dir, passphrase := _passphrase(args))
    gone = prune(ring, now=int(time.time()))
    if gone:
        save_keyring(ring, args.dir, passphrase, scrypt_n=SCRYPT_COST, update=True)
    print(f"pruned {len(gone)} key(s){': ' + ' '.join(gone) if gone else ''}")
    return 0


def _host(public_url: str) -> str:
    return urllib.parse.urlsplit(public_url).hostname or ""


def _login_host(public_url: str) -> str | None:
    """The public URL's host for a login key, or None (said on stderr) when it cannot be one (an address)."""
    try:
        return checked_host(_host(public_url))
    except LoginKeyError as exc:
        print(f"未制作登录密钥 no login key made: {exc}", file=sys.stderr)
        return None


def _login_line(login: LoginKey) -> str:
    return (f"login key {login.signer.kid} for {login.host} (OpenID4VP x509_san_dns), certificate issued by the root, "
            f"until {_when(login.not_after)}")


def _upgrade(args: argparse.Namespace) -> int:
    given = None if args.public_url is None else checked_public_url(args.public_url)
    public_url = given or remembered_public_url(args.dir.resolve().parent)
    passphrase = _passphrase(args)
    added = [name for name, add in (("the store secret", add_store_secret), ("the portrait key", add_portrait_key))
             if add(args.dir, passphrase, scrypt_n=SCRYPT_COST)]
    host = None if public_url is None else _login_host(public_url)
    login = None if host is None else issue_login_key(args.dir, passphrase, host=host, now=int(time.time()),
                                                       scrypt_n=SCRYPT_COST)
    if login is not None:
        added.append(f"the login key for {login.host}")
    print(f"{args.dir}: " + (f"added {' and '.join(added)}" if added else "already up to date"))
    if public_url is None and not has_login_key(args.dir):
        print("未添加登录密钥：不知道公网地址，请加 --public-url https://…。No login key added (no public URL "
              "known): give --public-url https://… for the residents' OpenID4VP login.", file=sys.stderr)
    return 0


def _login(args: argparse.Namespace) -> int:
    public_url = checked_public_url(args.public_url)
    login = issue_login_key(args.dir, _passphrase(args), host=_host(public_url), now=int(time.time()),
                            scrypt_n=SCRYPT_COST, replace=True)
    assert login is not None  # replace: always made
    print(_login_line(login))
    print("restart the wallet API (epermit serve) so that it signs the residents' login with it")
    return 0


def _list(args: argparse.Namespace) -> int:
    ring = load_keyring(args.dir, passphrase := _passphrase(args))
    now = int(time.time())
    print(f"root        {ring.root.kid}  until {_when(int(ring.root_certificate.not_valid_after_utc.timestamp()))}")
    signing = {purpose: ring.signing_key(purpose, now=now).kid for purpose in SIGNING_PURPOSES}
    for purpose, signer in ring.signers():
        start, end = ring.window(signer.kid)
        where = "pkcs11" if signer.kid in ring.backends else "file"
        mark = " (signs now)" if signing[purpose] == signer.kid else ""
        print(f"{purpose:<11} {signer.kid}  {ring.states[signer.kid]:<8} {where:<6} "
              f"{_when(start)} .. {_when(end)}{mark}")
    login = load_login_key(args.dir, passphrase)
    print("login       none (the residents' OpenID4VP login is off: epermit keys login --public-url https://…)"
          if login is None else f"login       {login.signer.kid}  {login.host}  until {_when(login.not_after)}")
    return 0
