"""The wallet's OpenID4VCI 1.0 client: the pre-authorized code flow with a PIN, one device key, every encoding.

    offer (by reference or value) -> issuer and AS metadata -> token (code + PIN)
    -> for each offered configuration: nonce -> key proof -> credential -> notification (credential_accepted)

Everything the issuer sends is checked before it is kept: each answer is size-capped and strictly parsed
JSON; every endpoint is https; the metadata names the issuer the offer named; each credential verifies
against the issuer's published signing keys (``/.well-known/jwt-vc-issuer``), is bound to this wallet's
device key, and all encodings state one status entry (one credential: issuer.service). The trust list
is not consulted here — the bureau's root is what ``status`` pins and checks against.

A deferred pickup (202: the application awaits approval) is reported as PickupPendingError; this wallet
does not poll for it (ask the officer for a new pickup once it is approved).
"""

from __future__ import annotations

import ssl
import time
import urllib.error
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from credential.encoding import b64url_encode, json_dumps, json_loads
from credential.errors import CredentialError, MalformedError
from credential.jwk import PublicKey, load_public_jwk, public_jwk
from credential.model import CredentialType, Permit
from credential.passclaims import F_AUTHORITY_CODE, F_DISTRICT, PassView
from credential.qrpass import CLAIM_PERMIT, QR_PREFIX, VerifiedPass, decode_qr_text, verify_pass
from credential.sdjwt import VerifiedSdJwt, verify_sd_jwt_vc
from epermit.errors import UsageError
from epermit.http_client import HttpError, Response, request
from epermit.wallet.errors import BadCredentialError, IssuerRefusedError, IssuerUnreachableError, PickupPendingError
from epermit.wallet.held import HeldCredential
from epermit.wallet.links import OfferSource, https_url, offer_source
from keys import KeySigner

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
PROOF_TYP = "openid4vci-proof+jwt"
SD_JWT_FORMAT = "dc+sd-jwt"
QR_FORMAT = "epermit_qr_pass"
MAX_ANSWER = 256 * 1024  # one JSON answer; a credential response with a few SD-JWT VCs is a few kB
MAX_CONFIGURATIONS = 8
MAX_PIN = 16
MAX_NONCE = 256  # a DPoP-Nonce kept from a server's answer
# The headers of one call, or a function that makes them for each attempt (a fresh DPoP proof).
Headers = dict[str, str] | Callable[[], dict[str, str]]


@dataclass(frozen=True)
class IssuerKey:
    """A credential.qrpass.IssuingKey from the issuer's published JWKS (not the trust list: see module)."""

    public_key: PublicKey
    authority_code: str
    authority_name: str


@dataclass
class _Received:
    sd_jwt_vc: str | None = None
    sd_jwt: VerifiedSdJwt | None = None
    passes: dict[PassView, tuple[bytes, VerifiedPass]] | None = None


RECOVERY_CODE = "epermit_recovery_code"


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _well_known(issuer: str, name: str) -> str:
    """RFC 8414 / OpenID4VCI §12.2.2: the well-known segment goes before the issuer's path."""
    parts = urllib.parse.urlsplit(issuer)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, f"/.well-known/{name}{parts.path.rstrip('/')}", "", ""))


def _text(document: dict[str, Any], name: str, what: str) -> str:
    value = document.get(name)
    if not isinstance(value, str) or not value:
        raise MalformedError(f"{what}: {name} is missing")
    return value


class OpenId4VciClient:
    """One pickup's worth of HTTP: bounded, https only (``allow_http``: tests on loopback), ``tls`` for a
    private CA (the demo's tls-ca.pem)."""

    def __init__(self, *, tls: ssl.SSLContext | None = None, allow_http: bool = False, timeout: float = 10,
                 clock: Callable[[], int] = lambda: int(time.time())) -> None:
        self.tls = tls
        self.allow_http = allow_http
        self.timeout = timeout
        self.clock = clock
        # The recovery code of the last pickup, when the issuer handed one out (once, at a holder's first
        # pickup: issuer.requests.recovery); never written to the wallet folder.
        self.recovery_code: str | None = None
        self._dpop_nonces: dict[str, str] = {}  # by origin: the server's DPoP-Nonce for the next proof

    # -- HTTP --------------------------------------------------------------------------------------

    def _call(self, step: str, url: str, *, headers: Headers | None = None,
              **options: Any) -> tuple[int, dict[str, Any]]:
        """One call; ``headers`` may be a function, called for each attempt: a call with a DPoP proof made by
        it is retried once when the server answers use_dpop_nonce with a DPoP-Nonce (RFC 9449 §8, §9), the
        function then reading the new nonce through ``dpop_nonce``."""
        https_url(url, what=f"{step} URL", allow_http=self.allow_http)
        for attempt in (1, 2):
            sent = headers() if callable(headers) else headers
            try:
                answer: Response = request(url, timeout=self.timeout, tls=self.tls, headers=sent, **options)
            except HttpError as exc:
                fresh = self._note_nonce(url, exc.headers)
                if (attempt == 1 and callable(headers) and "DPoP" in (sent or {})
                        and exc.error == "use_dpop_nonce" and fresh):
                    continue
                raise IssuerRefusedError(step, exc.status, exc.error, exc.description, exc.description_zh) from exc
            except (urllib.error.URLError, OSError, ValueError) as exc:
                reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
                raise IssuerUnreachableError(url, str(reason) or type(exc).__name__) from exc
            self._note_nonce(url, answer.headers)
            break
        if answer.status == 204:
            return answer.status, {}
        try:
            document = json_loads(answer.body, max_size=MAX_ANSWER)
        except MalformedError as exc:
            raise BadCredentialError(f"{step}: the issuer's answer is not JSON ({exc.reason})") from exc
        if not isinstance(document, dict):
            raise BadCredentialError(f"{step}: the issuer's answer is not a JSON object")
        return answer.status, document

    def dpop_nonce(self, url: str) -> str | None:
        """The last DPoP-Nonce the server of ``url`` sent (RFC 9449 §8.2: it may send a new one any time)."""
        return self._dpop_nonces.get(_origin(url))

    def _note_nonce(self, url: str, headers: dict[str, str]) -> bool:
        """Keep the answer's DPoP-Nonce for the next proofs to its server; True when it sent a new one."""
        nonce = next((v for k, v in headers.items() if k.lower() == "dpop-nonce"), None)
        if nonce is None or not 0 < len(nonce) <= MAX_NONCE or not nonce.isascii() or not nonce.isprintable():
            return False
        known = self._dpop_nonces.get(_origin(url))
        self._dpop_nonces[_origin(url)] = nonce
        return nonce != known

    def get(self, step: str, url: str) -> dict[str, Any]:
        return self._call(step, url)[1]

    def call(self, step: str, url: str, **options: Any) -> tuple[int, dict[str, Any]]:
        """One call to the issuer (the resident's requests, epermit.wallet.requests): its status and JSON."""
        return self._call(step, url, **options)

    # -- the flow ----------------------------------------------------------------------------------

    def offer(self, source: OfferSource) -> dict[str, Any]:
        document = source.document if source.document is not None else self.get("offer", str(source.url))
        issuer = _text(document, "credential_issuer", "offer")
        https_url(issuer, what="the offer's credential_issuer", allow_http=self.allow_http)
        if source.issuer is not None and issuer != source.issuer:
            raise BadCredentialError(f"the pickup page of {source.issuer} offers credentials of {issuer}: refused")
        return document

    def pick_up(self, link: str, pin: str | None, device_key: KeySigner) -> HeldCredential:
        """Redeem the offer behind ``link`` with ``pin``; every offered encoding, bound to ``device_key``."""
        source = offer_source(link, allow_http=self.allow_http)
        offer = self.offer(source)
        issuer = offer["credential_issuer"]
        grant = (offer.get("grants") or {}).get(PRE_AUTHORIZED_GRANT)
        if not isinstance(grant, dict) or not isinstance(grant.get("pre-authorized_code"), str):
            raise BadCredentialError("the offer has no pre-authorized code (this wallet does no other grant)")
        form = {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": grant["pre-authorized_code"]}
        tx_code = grant.get("tx_code")
        if tx_code is not None:
            form["tx_code"] = self._checked_pin(pin, tx_code)  # before the issuer counts an attempt
        metadata = self.get("issuer metadata", _well_known(issuer, "openid-credential-issuer"))
        if metadata.get("credential_issuer") != issuer:
            raise BadCredentialError("the issuer metadata names another credential issuer than the offer")
        formats = self.formats(metadata, offer.get("credential_configuration_ids"))
        token_endpoint = _text(self.get("authorization server metadata", _well_known(issuer, "oauth-authorization-server")),
                               "token_endpoint", "authorization server metadata")
        keys = self._issuer_keys(issuer)  # before the code is spent: an issuer whose keys we cannot read costs nothing
        token = _text(self._call("token (PIN)", token_endpoint, method="POST", form=form)[1], "access_token", "token")
        return self.receive(issuer, metadata, formats, device_key, keys=keys,
                            authorization=lambda method, url: {"Authorization": f"Bearer {token}"})

    @staticmethod
    def formats(metadata: dict[str, Any], wanted: object) -> dict[str, str]:
        """The configurations of ``wanted`` this wallet understands, with their formats."""
        supported = metadata.get("credential_configurations_supported")
        if not isinstance(supported, dict) or not isinstance(wanted, list) or not 0 < len(wanted) <= MAX_CONFIGURATIONS:
            raise BadCredentialError("the offer or the metadata lists no credential configurations")
        formats = {}
        for configuration_id in wanted:
            entry = supported.get(configuration_id) if isinstance(configuration_id, str) else None
            if isinstance(entry, dict) and entry.get("format") in (SD_JWT_FORMAT, QR_FORMAT):
                formats[configuration_id] = entry["format"]
        if not formats:
            raise BadCredentialError("the offer holds no encoding this wallet understands (SD-JWT VC, QR pass)")
        return formats

    def receive(self, issuer: str, metadata: dict[str, Any], formats: dict[str, str], device_key: KeySigner, *,
                keys: dict[str, PublicKey], authorization: Callable[[str, str], dict[str, str]]) -> HeldCredential:
        """With an access token: each configuration's credential bound to ``device_key``, verified, then
        credential_accepted. ``authorization(method, url)``: the headers of one call (Bearer, or DPoP with a
        fresh proof)."""
        credential_endpoint = _text(metadata, "credential_endpoint", "issuer metadata")
        nonce_endpoint = _text(metadata, "nonce_endpoint", "issuer metadata")
        authority_name = self._issuer_name(metadata, issuer)
        received = _Received(passes={})
        self.recovery_code = None
        notifications = []
        for configuration_id, fmt in formats.items():
            nonce = _text(self._call("nonce", nonce_endpoint, method="POST")[1], "c_nonce", "nonce")
            body = {"credential_configuration_id": configuration_id,
                    "proofs": {"jwt": [self._proof(device_key, issuer, nonce)]}}
            status, answer = self._call(f"credential {configuration_id}", credential_endpoint, method="POST",
                                        json_body=body, headers=lambda: authorization("POST", credential_endpoint))
            if status == 202:
                raise PickupPendingError("the application awaits an officer's approval; once approved, ask the "
                                         "officer for a new pickup")
            credentials = answer.get("credentials")
            if not isinstance(credentials, list) or len(credentials) != 1 or not isinstance(credentials[0], dict):
                raise BadCredentialError(f"{configuration_id}: expected one credential")
            text = credentials[0].get("credential")
            if not isinstance(text, str):
                raise BadCredentialError(f"{configuration_id}: the credential is not text")
            self._accept(received, fmt, configuration_id, text, keys, authority_name, device_key, issuer)
            if isinstance(answer.get("notification_id"), str):
                notifications.append(str(answer["notification_id"]))
            if isinstance(answer.get(RECOVERY_CODE), str):
                self.recovery_code = str(answer[RECOVERY_CODE])
        metadata_notification = metadata.get("notification_endpoint")
        if isinstance(metadata_notification, str):
            for notification_id in notifications:
                self._notify(metadata_notification, notification_id,
                             lambda: authorization("POST", metadata_notification))
        return self._held(received, issuer, authority_name)

    @staticmethod
    def _checked_pin(pin: str | None, tx_code: object) -> str:
        if pin is None:
            raise UsageError("this pickup needs the PIN the officer gave you (--pin)")
        rules = tx_code if isinstance(tx_code, dict) else {}
        length = rules.get("length")
        if not pin.isascii() or len(pin) > MAX_PIN or (rules.get("input_mode", "numeric") == "numeric"
                                                       and not pin.isdigit()):
            raise UsageError("the PIN is the digits the officer gave you")
        if type(length) is int and len(pin) != length:
            raise UsageError(f"the PIN has {length} digits")
        return pin

    def issuer_keys(self, issuer: str) -> dict[str, PublicKey]:
        """The issuer's credential keys by kid (its JWT VC issuer metadata)."""
        return self._issuer_keys(issuer)

    def _issuer_keys(self, issuer: str) -> dict[str, PublicKey]:
        document = self.get("issuer keys", _well_known(issuer, "jwt-vc-issuer"))
        jwks = document.get("jwks")
        entries = jwks.get("keys") if isinstance(jwks, dict) else None
        if document.get("issuer") != issuer or not isinstance(entries, list) or not entries:
            raise BadCredentialError("the issuer publishes no signing keys (/.well-known/jwt-vc-issuer)")
        keys = {}
        for entry in entries[:64]:
            if isinstance(entry, dict) and isinstance(entry.get("kid"), str):
                try:
                    keys[entry["kid"]] = load_public_jwk({k: v for k, v in entry.items()
                                                         if k in ("kty", "crv", "x", "y")})
                except CredentialError:
                    continue  # a key this wallet cannot use signs nothing it accepts
        return keys

    @staticmethod
    def _issuer_name(metadata: dict[str, Any], issuer: str) -> str:
        for entry in metadata.get("display") or []:
            if isinstance(entry, dict) and entry.get("locale") == "zh-CN" and isinstance(entry.get("name"), str):
                return str(entry["name"])
        return urllib.parse.urlsplit(issuer).hostname or issuer

    def _proof(self, device_key: KeySigner, issuer: str, nonce: str) -> str:
        """A `jwt` key proof (OpenID4VCI 1.0 Appendix F.1): the device key signs the issuer, the time, the nonce."""
        header = {"typ": PROOF_TYP, "alg": device_key.alg, "jwk": public_jwk(device_key.public_key)}
        payload = {"aud": issuer, "iat": self.clock(), "nonce": nonce}
        signing_input = f"{b64url_encode(json_dumps(header))}.{b64url_encode(json_dumps(payload))}"
        return signing_input + "." + b64url_encode(device_key.sign(signing_input.encode("ascii")))

    def _accept(self, received: _Received, fmt: str, configuration_id: str, text: str, keys: dict[str, PublicKey],
                authority_name: str, device_key: KeySigner, issuer: str) -> None:
        """Verify one delivered credential against the issuer's keys and this device key; keep it in ``received``."""
        now = self.clock()
        mine = public_jwk(device_key.public_key)
        try:
            if fmt == SD_JWT_FORMAT:
                verified_sd = verify_sd_jwt_vc(text, resolve_key=lambda kid: _key(keys, kid), now=now,
                                               require_key_binding=False)
                if verified_sd.holder_key is None or public_jwk(verified_sd.holder_key) != mine:
                    raise BadCredentialError(f"{configuration_id}: not bound to this wallet's device key")
                if verified_sd.claims.get("iss") != issuer:
                    raise BadCredentialError(f"{configuration_id}: issued by another issuer than the offer's")
                received.sd_jwt_vc, received.sd_jwt = text, verified_sd
                return
            if not text.startswith(QR_PREFIX):
                raise BadCredentialError(f"{configuration_id}: not a QR pass")
            decoded = decode_qr_text(text)
            if decoded.live:
                raise BadCredentialError(f"{configuration_id}: the issuer sent a live pass")
            permit_map = decoded.payload.get(CLAIM_PERMIT)
            code = permit_map.get(F_AUTHORITY_CODE, permit_map.get(F_DISTRICT)) if isinstance(permit_map, dict) else None
            authority = f"{code:06d}" if type(code) is int and 0 <= code < 1_000_000 else ""
            verified = verify_pass(decoded, resolve_key=lambda kid: IssuerKey(_key(keys, kid), authority,
                                                                              authority_name), now=now)
        except CredentialError as exc:
            raise BadCredentialError(f"{configuration_id}: {exc}") from exc
        if public_jwk(verified.holder_key) != mine:
            raise BadCredentialError(f"{configuration_id}: not bound to this wallet's device key")
        assert received.passes is not None
        if verified.view in received.passes:
            raise BadCredentialError(f"{configuration_id}: a second {verified.view.value} QR pass")
        received.passes[verified.view] = (decoded.cose_pass, verified)

    def _notify(self, endpoint: str, notification_id: str, headers: Callable[[], dict[str, str]]) -> None:
        """Tell the issuer the credentials are kept (its audit trail shows the pickup confirmed); a failure
        here changes nothing the wallet holds."""
        try:
            self._call("notification", endpoint, method="POST", json_body={"notification_id": notification_id,
                                                                            "event": "credential_accepted"},
                       headers=headers)
        except (IssuerRefusedError, IssuerUnreachableError, BadCredentialError, UsageError):
            pass

    def _held(self, received: _Received, issuer: str, authority_name: str) -> HeldCredential:
        assert received.passes is not None
        statuses = {(v.status_uri, v.status_idx) for _, v in received.passes.values()}
        if received.sd_jwt is not None:
            statuses.add((received.sd_jwt.status_uri, received.sd_jwt.status_idx))
        if len(statuses) != 1:
            raise BadCredentialError("the encodings state different status entries: not one credential")
        [(status_uri, status_idx)] = statuses
        shown = received.passes.get(PassView.FULL) or received.passes.get(PassView.BASIC)
        if shown is None:
            raise BadCredentialError("no QR pass was delivered: this wallet shows QR codes")
        permit = shown[1].permit
        name, pinyin = (permit.holder.name, permit.holder.name_pinyin) if isinstance(permit, Permit) \
            else (permit.name, permit.name_pinyin)
        credential_type: CredentialType = permit.type
        full, basic = received.passes.get(PassView.FULL), received.passes.get(PassView.BASIC)
        return HeldCredential(
            document_number=permit.document_number, credential_type=credential_type, name=name, name_pinyin=pinyin,
            authority_name=authority_name, valid_from=permit.valid_from, valid_until=permit.valid_until,
            issuer=issuer, status_uri=status_uri, status_idx=status_idx, picked_up_at=self.clock(),
            sd_jwt_vc=received.sd_jwt_vc, qr_pass=None if full is None else full[0],
            qr_pass_basic=None if basic is None else basic[0],
        )


def _key(keys: dict[str, PublicKey], kid: str) -> PublicKey:
    if kid not in keys:
        raise BadCredentialError(f"signed by key {kid!r}, which the issuer does not publish")
    return keys[kid]
