"""`epermit verify`: scan-and-check for landlords and employers, plus `verify sync` and `verify import`.

    epermit verify sync <base URL> [--cache DIR] [--root root.pem] [--ca tls-ca.pem]
    epermit verify import [--cache DIR] FILE...
    epermit verify [--cache DIR] [--json] [--full] [--require-live] [--max-status-age S] [--status-warn-age S]
                   [--max-trust-age S] [--live-window S] [--kb-max-age S] [--aud TEXT] [--nonce TEXT]
                   [--portrait-code IMAGE] [--portrait-out FILE]
                   <image | text file | QR text | SD-JWT VC | ->

One photo may hold both the pass and the portrait code (the wallet shows them side by side); or the portrait
code comes in its own photo (--portrait-code). Either way the face is checked against the digest the pass
signs: ``portrait: verified`` / ``absent`` / ``mismatch`` (a mismatch is never VALID).

Exit codes: 0 VALID; 1 any other verification result; 2 usage or I/O error (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from credential.errors import CredentialError, EpermitError
from credential.qrpass import QR_PREFIX
from credential.trustlist import TrustList
from verifier.cache import VerifierCache
from verifier.cachefiles import atomic_write
from verifier.errors import UsageError
from verifier.policy import Policy
from verifier.qrimage import MAX_IMAGE_FILE, decode_qr_symbols, pass_text, portrait_codes
from verifier.report import escaped, render, shown_claims
from verifier.result import Result, VerificationResult
from verifier.verify import MAX_INPUT, verify

EXIT_VALID, EXIT_NOT_VALID, EXIT_USAGE = 0, 1, 2
CACHE_ENV = "EPERMIT_VERIFIER_CACHE"
IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")
MAX_IMPORT_FILE = 4 * 1024 * 1024


def _terminal_columns() -> int:
    """shutil.get_terminal_size().columns: $COLUMNS, else the terminal's width, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else 80


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, measuring the terminal without shutil. argparse makes a formatter for every
    add_argument (to check its metavar), and each one imports shutil (and bz2, lzma) for the width: on every
    scan, which prints no help. The width is the same as shutil's."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position,
                         _terminal_columns() - 2 if width is None else width)


def default_cache_dir(env: dict[str, str] | None = None) -> Path:
    env = dict(os.environ) if env is None else env
    configured = env.get(CACHE_ENV)
    return Path(configured) if configured else Path.home() / ".cache" / "epermit" / "verifier"


def _add_cache(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cache", type=Path, default=None, metavar="DIR",
                        help=f"verifier cache folder (default ${CACHE_ENV} or ~/.cache/epermit/verifier)")


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def _sync_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="epermit verify sync", formatter_class=_HelpFormatter,
                                     description="Fetch the trust list and all status lists into the cache.")
    parser.add_argument("base_url", help="the wallet API's public URL, e.g. https://permits.example.gov.cn")
    _add_cache(parser)
    parser.add_argument("--root", type=Path, metavar="FILE",
                        help="root certificate (PEM) to pin on first sync; a different pinned root is refused")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request (default 10)")
    parser.add_argument("--ca", type=Path, metavar="FILE",
                        help="trust this CA certificate (PEM) for https, e.g. the demo's tls-ca.pem")
    return parser


def _import_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="epermit verify import", formatter_class=_HelpFormatter,
                                     description="Accept trust list or status list tokens (JWT or CWT) from files.")
    _add_cache(parser)
    parser.add_argument("--root", type=Path, metavar="FILE", help="root certificate (PEM) to pin first")
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    return parser


def _verify_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="epermit verify",
        formatter_class=_HelpFormatter,
        description="Verify a residence permit QR code or SD-JWT VC offline. "
                    "Also: `epermit verify sync URL`, `epermit verify import FILE...`.",
    )
    parser.add_argument("input", help="an image file (PNG/JPEG), a text file, the QR text itself, or - for stdin")
    _add_cache(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--full", action="store_true", help="show the full citizen ID number")
    parser.add_argument("--require-live", action="store_true",
                        help="refuse static passes and SD-JWT VCs without key binding (NO_HOLDER_PROOF)")
    parser.add_argument("--max-status-age", type=_non_negative, metavar="SECONDS",
                        help="oldest revocation data that can still prove a credential valid (default 7 days)")
    parser.add_argument("--status-warn-age", type=_non_negative, metavar="SECONDS",
                        help="revocation data older than this still gives VALID, with a warning (default 1 day)")
    parser.add_argument("--max-trust-age", type=_non_negative, metavar="SECONDS",
                        help="oldest trust list that can still prove a signing key good (default 30 days)")
    parser.add_argument("--live-window", type=_non_negative, metavar="SECONDS",
                        help="largest |live proof time - now| accepted (default 60)")
    parser.add_argument("--kb-max-age", type=_non_negative, metavar="SECONDS",
                        help="oldest SD-JWT key-binding JWT accepted (default 300)")
    parser.add_argument("--aud", metavar="TEXT", help="the audience an SD-JWT presentation must be bound to")
    parser.add_argument("--nonce", metavar="TEXT",
                        help="the nonce this verifier handed out (KB-JWT nonce; live QR proof nonce as UTF-8)")
    parser.add_argument("--portrait-code", type=Path, metavar="IMAGE",
                        help="a photo (PNG/JPEG) of the portrait code, when it is not in the same photo as the pass")
    parser.add_argument("--portrait-out", type=Path, metavar="FILE",
                        help="save the portrait (only once verified against the pass) to FILE, mode 0600")
    return parser


def policy_from_args(args: argparse.Namespace) -> Policy:
    """The Policy the command line asks for; anything not given keeps its default."""
    default = Policy()
    max_status_age = default.status_max_age if args.max_status_age is None else args.max_status_age
    warn = args.status_warn_age if args.status_warn_age is not None else default.status_warn_age
    options: dict[str, Any] = {
        "require_live": args.require_live,
        "status_max_age": max_status_age,
        "status_warn_age": min(warn, max_status_age),
        "expected_aud": args.aud,
        "expected_nonce": args.nonce,
    }
    for name, field_name in (("max_trust_age", "trust_max_age"), ("live_window", "live_window"),
                             ("kb_max_age", "kb_max_age")):
        if getattr(args, name) is not None:
            options[field_name] = getattr(args, name)
    return Policy(**options)


def _cache(args: argparse.Namespace) -> VerifierCache:
    return VerifierCache(args.cache if args.cache is not None else default_cache_dir())


def _read_file(path: Path, limit: int) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(limit + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _run_sync(args: argparse.Namespace, out: TextIO) -> int:
    root_pem = _read_file(args.root, MAX_IMPORT_FILE) if args.root is not None else None
    import ssl  # only sync talks to the network: a scan loads neither the TLS stack nor the sync code

    from verifier.sync import sync

    tls = ssl.create_default_context(cafile=str(args.ca)) if args.ca is not None else None
    summary = sync(args.base_url, _cache(args), now=int(time.time()), root_pem=root_pem, timeout=args.timeout,
                   tls=tls)
    print(f"trust list version {summary.trust_version}; {len(summary.status_lists)} status list(s) updated",
          file=out)
    for uri, reason in summary.failures:  # both may quote what a server sent: escaped, one line each
        print(f"warning: {escaped(uri)}: {escaped(reason)}", file=sys.stderr)
    return EXIT_VALID if summary.ok else EXIT_USAGE


def _run_import(args: argparse.Namespace, out: TextIO) -> int:
    cache = _cache(args)
    if args.root is not None:
        cache.pin_root(_read_file(args.root, MAX_IMPORT_FILE))
    now = int(time.time())
    for path in args.files:
        data = _read_file(path, MAX_IMPORT_FILE)
        try:
            _, verified = cache.accept_token(data, now)  # a compact JWS (text) or a status list CWT (bytes)
        except EpermitError as exc:
            raise UsageError(f"{path}: {exc}") from exc
        label = (f"trust list version {verified.version}" if isinstance(verified, TrustList)
                 else f"status list {verified.uri}")
        print(escaped(f"{path}: accepted {label}"), file=out)
    return EXIT_VALID


def _looks_like_path(text: str) -> bool:
    return os.sep in text or Path(text).suffix.lower() in {".png", ".jpg", ".jpeg", ".txt", ".jwt", ".sd-jwt"}


def _is_file(path: Path) -> bool:
    """Path.is_file, except that a name too long to be a file (an SD-JWT VC pasted as text) is simply not one."""
    try:
        return path.is_file()
    except (OSError, ValueError):  # ENAMETOOLONG; NUL bytes
        return False


def read_input(argument: str, stdin: Any = None) -> str:
    """The credential text behind the command-line argument: stdin, an image, a text file, or itself."""
    return read_scan(argument, stdin)[0]


def read_scan(argument: str, stdin: Any = None) -> tuple[str, list[bytes]]:
    """The credential text behind the command-line argument, and the portrait codes scanned with it (an
    image may hold both symbols; text holds no portrait code)."""
    if argument == "-":
        stream = sys.stdin.buffer if stdin is None else stdin
        data: bytes = stream.read(MAX_INPUT + 1)
        return data.decode("utf-8", errors="replace"), []
    path = Path(argument)
    is_qr_text = argument.startswith(QR_PREFIX)
    if is_qr_text or not _is_file(path):
        if not is_qr_text and _looks_like_path(argument) and "~" not in argument:
            raise UsageError(f"no such file: {argument}")
        return argument, []
    data = _read_file(path, MAX_IMAGE_FILE)
    if data.startswith(IMAGE_MAGIC):
        symbols = decode_qr_symbols(data)  # MalformedError -> caller reports MALFORMED
        return pass_text(symbols), portrait_codes(symbols)
    return data[: MAX_INPUT + 1].decode("utf-8", errors="replace"), []


def read_portrait_codes(path: Path) -> list[bytes]:
    """The portrait codes in a photo given on its own; a photo without one is a usage error (it was asked for)."""
    data = _read_file(path, MAX_IMAGE_FILE)
    if not data.startswith(IMAGE_MAGIC):
        raise UsageError(f"{path}: not a PNG or JPEG photo of a portrait code")
    try:
        codes = portrait_codes(decode_qr_symbols(data))
    except CredentialError as exc:
        raise UsageError(f"{path}: {exc}") from exc
    if not codes:
        raise UsageError(f"{path}: no portrait code found")
    return codes


def _save_portrait(outcome: VerificationResult, target: Path | None) -> None:
    """--portrait-out: the verified portrait, 0600 (it is biometric data); nothing unverified is ever written."""
    if target is None:
        return
    if outcome.portrait_image is None:
        print(f"epermit verify: portrait {outcome.portrait}: nothing written to {escaped(str(target))}", file=sys.stderr)
        return
    try:
        atomic_write(target, outcome.portrait_image)
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from exc


def _run_verify(args: argparse.Namespace, out: TextIO) -> int:
    policy = policy_from_args(args)
    now = int(time.time())
    extra = read_portrait_codes(args.portrait_code) if args.portrait_code is not None else []
    try:
        text, codes = read_scan(args.input)
    except CredentialError as exc:  # an image with no readable QR code
        outcome = VerificationResult(result=Result.from_code(exc.code), reason=str(exc))
    else:
        outcome = verify(text, _cache(args), policy=policy, now=now, portrait_codes=[*codes, *extra])
    _save_portrait(outcome, args.portrait_out)
    if args.json:
        data = outcome.to_json()
        data["claims"] = shown_claims(outcome.claims, full=args.full)
        print(json.dumps(data, ensure_ascii=False), file=out)
    else:
        print(render(outcome, full=args.full), file=out)
        if outcome.portrait_image is not None and args.portrait_out is not None:
            print(f"  portrait saved to {escaped(str(args.portrait_out))}", file=out)
    return EXIT_VALID if outcome.ok else EXIT_NOT_VALID


_COMMANDS: dict[str, tuple[Callable[[], argparse.ArgumentParser], Callable[[argparse.Namespace, TextIO], int]]] = {
    "sync": (_sync_parser, _run_sync),
    "import": (_import_parser, _run_import),
}


def main_verify(argv: Sequence[str], out: TextIO | None = None) -> int:
    """`epermit verify ...` without the word "verify". The first word picks sync, import or a verification."""
    out = sys.stdout if out is None else out
    argv = list(argv)
    build, run = _COMMANDS.get(argv[0], (_verify_parser, _run_verify)) if argv else (_verify_parser, _run_verify)
    if argv and argv[0] in _COMMANDS:
        argv = argv[1:]
    try:
        args = build().parse_args(argv)
    except SystemExit as exc:  # argparse printed its usage line; --help exits 0
        return EXIT_VALID if exc.code == 0 else EXIT_USAGE
    try:
        return run(args, out)
    except (EpermitError, OSError) as exc:
        print(f"epermit verify: {escaped(str(exc))}", file=sys.stderr)
        return EXIT_USAGE


def main() -> int:  # python -m verifier.cli
    return main_verify(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
