"""The `epermit` command: one parser, one subcommand per job, one exit-code table (epermit.cli.harness).

Every subcommand but `verify` is registered here from the modules of this package. `epermit verify` is
handed to verifier.cli as it is: the verifier parses its own arguments so that it also installs and runs
alone (`python -m verifier.cli`), without flask or redis.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # at run time the harness (keys, issuer errors) loads with the parser, never for `verify`
    from epermit.cli.harness import Handler


def build_parser() -> argparse.ArgumentParser:
    from epermit.cli.audit import add_audit_commands
    from epermit.cli.backup import add_backup_commands
    from epermit.cli.employer import add_employer_command
    from epermit.cli.issue import add_issue_command
    from epermit.cli.keys import add_keys_commands
    from epermit.cli.notifications import add_notification_commands
    from epermit.cli.officers import add_officer_commands
    from epermit.cli.reissue import add_reissue_commands
    from epermit.cli.serve import add_serve_commands
    from epermit.cli.wallet import add_wallet_commands

    parser = argparse.ArgumentParser(
        prog="epermit", description="Electronic residence permits: issue, deliver, verify."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    add_serve_commands(sub)
    add_reissue_commands(sub, add_keys_commands(sub))  # keys ..., keys affected, reissue (docs/keys.md)
    add_officer_commands(sub)
    add_audit_commands(sub)
    add_backup_commands(sub)
    add_issue_command(sub)
    add_wallet_commands(sub)
    add_employer_command(sub)  # employer-demo: OpenID4VP
    add_notification_commands(sub)
    sub.add_parser(
        "verify",
        help="verify a QR code or SD-JWT VC offline; `epermit verify sync URL` refreshes the cache",
        add_help=False,
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["verify"]:
        from verifier.cli import main_verify

        return main_verify(args_list[1:])
    args = build_parser().parse_args(args_list)
    handler: Handler = args.handler
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
