"""`epermit employer-demo`: an employer checks a new employee's residence credential online (OpenID4VP 1.0).

- epermit.employer.checks: the plain-Python core (a check = a signed request + its verdict) over
  verifier.openid4vp, the library the bureau's own online services will use too;
- epermit.employer.pages: the pages (zh-CN first, with English);
- epermit.employer.app: the Flask app factory and its thin blueprint;
- epermit.employer.serve: the demo server (https from a loopback CA, the verifier cache synced from the
  wallet API). The command line is epermit.cli.employer.
"""

from __future__ import annotations

from epermit.employer.app import EmployerSettings, create_app
from epermit.employer.checks import EmployerChecks, Outcome

__all__ = ["EmployerChecks", "EmployerSettings", "Outcome", "create_app"]
