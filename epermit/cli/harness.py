"""What every `epermit` subcommand shares: the exit-code table, one error wrapper, one dispatch key.

Exit codes (the README's table; `epermit verify` keeps the same meanings in verifier.cli):

====  ==========================================================================================
0     success; for a verdict, VALID
1     a refusal (the bureau's rules, a record's state, a broken audit chain) or a verdict other than VALID
2     usage, configuration or environment errors (bad arguments, no data folder, keys that do not unlock,
      a store that cannot be reached, a file that cannot be written)
====  ==========================================================================================

Every subcommand sets ``handler`` (args -> exit code) with ``set_defaults``, wrapped in ``guarded`` so that
an epermit error or an OS error is one line on stderr and the right code, never a traceback. A bug (any
other exception) still raises: a polite line would hide it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from credential.errors import EpermitError
from epermit.errors import UsageError
from issuer.errors import SettingsError, StoreUnavailableError
from keys.errors import KeyManagementError

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2

Handler = Callable[[argparse.Namespace], int]
Subparsers = argparse._SubParsersAction  # argparse exposes no public name for it


def exit_code(exc: BaseException) -> int:
    """The table above, for an error that reached the command line."""
    if isinstance(exc, UsageError | SettingsError | KeyManagementError | StoreUnavailableError | OSError):
        return EXIT_USAGE
    return EXIT_REFUSED


def guarded(name: str, handler: Handler) -> Handler:
    """``handler`` with its epermit and OS errors turned into one line on stderr and an exit code."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except (EpermitError, OSError) as exc:
            print(f"epermit {name}: {exc}", file=sys.stderr)
            return exit_code(exc)

    return run
