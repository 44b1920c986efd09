"""POST /token: every refusal has its OAuth error code, and a wrong PIN never yields a token."""

from __future__ import annotations

from flask.testing import FlaskClient

from issuer.model import Offer
from issuer.service import IssuerService
from tests.wallet_api.conftest import BOTH_STORES
from tests.wallet_api.support import PRE_AUTH_GRANT, redeem


def error_of(response: object) -> str:
    assert response.status_code == 400, response.get_json()  # type: ignore[attr-defined]
    assert response.headers["Cache-Control"] == "no-store"  # type: ignore[attr-defined]
    error: str = response.get_json()["error"]  # type: ignore[attr-defined]
    return error


def wrong_pin(offer: Offer) -> str:
    return f"{(int(offer.tx_code) + 1) % 1_000_000:06d}"


def test_wrong_pin_is_invalid_grant_and_the_right_one_still_works(client: FlaskClient, offer: Offer) -> None:
    wrong = redeem(client, offer.pre_authorized_code, wrong_pin(offer))
    assert error_of(wrong) == "invalid_grant"
    # The resident who mistyped learns how careful to be (the code holder can read the offer's state anyway).
    assert wrong.get_json()["error_description"] == "wrong PIN: 4 attempts left"
    assert redeem(client, offer.pre_authorized_code, offer.tx_code).status_code == 200


def test_missing_tx_code_is_invalid_request(client: FlaskClient, offer: Offer) -> None:
    assert error_of(redeem(client, offer.pre_authorized_code, None)) == "invalid_request"


def test_a_used_code_is_invalid_grant(client: FlaskClient, offer: Offer) -> None:
    assert redeem(client, offer.pre_authorized_code, offer.tx_code).status_code == 200
    assert error_of(redeem(client, offer.pre_authorized_code, offer.tx_code)) == "invalid_grant"


def test_unknown_code_is_invalid_grant(client: FlaskClient, offer: Offer) -> None:
    assert error_of(redeem(client, "not-a-code", offer.tx_code)) == "invalid_grant"


@BOTH_STORES
def test_pin_brute_force_burns_the_code_after_five_wrong_pins(
    client: FlaskClient, service: IssuerService, offer: Offer
) -> None:
    guesses = [f"{n:06d}" for n in range(1000) if f"{n:06d}" != offer.tx_code]
    for left, guess in zip((4, 3, 2, 1, 0), guesses[:5], strict=True):
        answer = redeem(client, offer.pre_authorized_code, guess)
        assert error_of(answer) == "invalid_grant"
        assert f"wrong PIN: {left} attempt{'' if left == 1 else 's'} left" in answer.get_json()["error_description"]
    # Burned: the right PIN no longer works, nor does any further guess, and the offer is gone.
    burned = redeem(client, offer.pre_authorized_code, offer.tx_code)
    assert error_of(burned) == "invalid_grant" and "attempt" not in burned.get_json()["error_description"]
    for guess in guesses[5:8]:
        assert error_of(redeem(client, offer.pre_authorized_code, guess)) == "invalid_grant"
    assert client.get(f"/offers/{offer.offer_id}").status_code == 404
    assert [e.action for e in service.audit.list()].count("offer_burned") == 1


def test_four_wrong_pins_then_the_right_one_still_works(client: FlaskClient, offer: Offer) -> None:
    for _ in range(4):
        assert error_of(redeem(client, offer.pre_authorized_code, wrong_pin(offer))) == "invalid_grant"
    assert redeem(client, offer.pre_authorized_code, offer.tx_code).status_code == 200


def test_wrong_grant_type_is_unsupported_grant_type(client: FlaskClient, offer: Offer) -> None:
    for grant_type in ("authorization_code", "client_credentials", PRE_AUTH_GRANT.upper()):
        response = client.post("/token", data={"grant_type": grant_type, "pre-authorized_code":
                                               offer.pre_authorized_code, "tx_code": offer.tx_code})
        assert error_of(response) == "unsupported_grant_type"
    assert redeem(client, offer.pre_authorized_code, offer.tx_code).status_code == 200  # nothing was spent


def test_missing_parameters_are_invalid_request(client: FlaskClient, offer: Offer) -> None:
    assert error_of(client.post("/token", data={"pre-authorized_code": offer.pre_authorized_code})) == "invalid_request"
    assert error_of(client.post("/token", data={"grant_type": PRE_AUTH_GRANT})) == "invalid_request"
    assert error_of(client.post("/token", data={"grant_type": PRE_AUTH_GRANT, "pre-authorized_code": ""})) == (
        "invalid_request"
    )


def test_repeated_parameters_and_json_bodies_are_invalid_request(client: FlaskClient, offer: Offer) -> None:
    repeated = f"grant_type={PRE_AUTH_GRANT}&pre-authorized_code={offer.pre_authorized_code}&tx_code=1&tx_code=2"
    response = client.post("/token", data=repeated, content_type="application/x-www-form-urlencoded")
    assert error_of(response) == "invalid_request"
    response = client.post("/token", json={"grant_type": PRE_AUTH_GRANT, "pre-authorized_code": "x"})
    assert error_of(response) == "invalid_request"
    assert redeem(client, offer.pre_authorized_code, offer.tx_code).status_code == 200


def test_overlong_values_are_refused_before_the_service(client: FlaskClient, offer: Offer) -> None:
    assert error_of(redeem(client, "c" * 10_000, offer.tx_code)) == "invalid_request"
    assert error_of(redeem(client, offer.pre_authorized_code, "1" * 10_000)) == "invalid_request"
    assert redeem(client, offer.pre_authorized_code, offer.tx_code).status_code == 200


def test_token_endpoint_only_accepts_post(client: FlaskClient) -> None:
    response = client.get("/token")
    assert response.status_code == 405
    assert response.get_json()["error"] == "method_not_allowed"


def test_a_wrong_pin_says_how_many_attempts_are_left(client: FlaskClient, offer: Offer) -> None:
    # The wallet shows this to the resident; once the code is burned the answer is the generic one again.
    descriptions = []
    for _ in range(5):
        response = redeem(client, offer.pre_authorized_code, wrong_pin(offer))
        assert error_of(response) == "invalid_grant"
        descriptions.append(response.get_json()["error_description"])
    assert descriptions == [f"wrong PIN: {n} attempt{'' if n == 1 else 's'} left" for n in (4, 3, 2, 1, 0)]
    burned = redeem(client, offer.pre_authorized_code, offer.tx_code)
    assert error_of(burned) == "invalid_grant"
    assert "attempt" not in burned.get_json()["error_description"]
    unknown = redeem(client, "not-a-code", offer.tx_code)
    assert "attempt" not in unknown.get_json()["error_description"]
