"""`python -m epermit.cli ...`: the same as the `epermit` command."""

from __future__ import annotations

import sys

from epermit.cli import main

sys.exit(main())
