"""The employer demo's Flask app: a thin blueprint over epermit.employer.checks (and verifier.openid4vp).

    GET  /                          the start page (zh-CN, en)
    POST /checks                    a new check -> 303 to its page
    GET  /checks/<view_id>          the QR and same-device link while waiting; the verified result after
    GET  /openid4vp/request/<id>    the signed request object (application/oauth-authz-req+jwt)
    POST /openid4vp/response        the wallet's direct_post (OpenID4VP 1.0 §8.2)
    GET  /done?response_code=…      where the wallet sends the resident afterwards: the verdict, no claims

Bodies are capped (MAX_CONTENT_LENGTH) before Flask reads them; every page has a CSP that loads only its own
stylesheet and the QR's data: image; answers to the wallet are JSON with ``Cache-Control: no-store``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, Response, abort, json, redirect, render_template_string, request

from epermit.employer.checks import EmployerChecks
from epermit.employer.pages import DONE, INDEX, LAYOUT, RESULT, STYLE, WAITING, asked_labels, result_context
from issuer.qr import qr_data_uri
from verifier.openid4vp import REQUEST_MEDIA_TYPE, UnknownTransactionError, parse_dcql
from verifier.openid4vp.response import MAX_BODY

CSP = "default-src 'none'; style-src 'self'; img-src data:; form-action 'self'; frame-ancestors 'none'"
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "X-Frame-Options": "DENY"}


@dataclass(frozen=True)
class EmployerSettings:
    name_zh: str = "示例科技有限公司（演示）"
    name_en: str = "Example Technology Co. (demo)"


def _page(settings: EmployerSettings, body: str, *, refresh: bool = False, **context: Any) -> str:
    # The page's template is the layout with one of the constant body templates put in its place: both are
    # ours, never input, and everything rendered into them is autoescaped.
    return render_template_string(LAYOUT.replace("{{ body }}", body), base="", refresh=refresh,
                                  verifier_zh=settings.name_zh, verifier_en=settings.name_en, **context)


def create_blueprint(checks: EmployerChecks, settings: EmployerSettings, clock: Callable[[], int]) -> Blueprint:
    pages = Blueprint("employer", __name__)

    @pages.get("/")
    def index() -> str:
        return _page(settings, INDEX)

    @pages.get("/style.css")
    def style() -> Response:
        return Response(STYLE, mimetype="text/css")

    @pages.post("/checks")
    def start() -> Any:
        return redirect(f"/checks/{checks.start(now=clock())}", code=303)

    @pages.get("/checks/<view_id>")
    def check(view_id: str) -> Any:
        outcome = checks.outcome(view_id, now=clock())
        if outcome is None:
            abort(404)
        if outcome.result is None:
            uri = outcome.pending.authorization_uri
            [query] = parse_dcql(outcome.pending.transaction.dcql_query)
            return _page(settings, WAITING, refresh=True, uri=uri, qr=qr_data_uri(uri),
                         asked=asked_labels(query.claims))
        return _page(settings, RESULT, **result_context(outcome))

    @pages.get("/openid4vp/request/<request_id>")
    def request_object(request_id: str) -> Response:
        try:
            token = checks.request_object(request_id, now=clock())
        except UnknownTransactionError:
            abort(404)
        return Response(token, mimetype=REQUEST_MEDIA_TYPE, headers={"Cache-Control": "no-store"})

    @pages.post("/openid4vp/response")
    def response() -> Response:
        if request.mimetype != "application/x-www-form-urlencoded":
            return _json(400, {"error": "invalid_request", "error_description": "direct_post is a form"})
        answer = checks.receive(request.get_data(cache=False), now=clock())
        return _json(answer.status, answer.body)

    @pages.get("/done")
    def done() -> str:
        outcome = checks.by_response_code(request.args.get("response_code", ""), now=clock())
        if outcome is None or outcome.result is None:
            abort(404)
        context = result_context(outcome)
        return _page(settings, DONE, code=context["code"], headline=context["headline"], css=context["css"])

    return pages


def _json(status: int, body: dict[str, str]) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json", headers={"Cache-Control": "no-store"})


def create_app(checks: EmployerChecks, settings: EmployerSettings, *, clock: Callable[[], int]) -> Flask:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY  # refused (413) before the body is read
    app.register_blueprint(create_blueprint(checks, settings, clock))

    @app.after_request
    def headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return app
