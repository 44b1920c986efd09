"""The wallet API's login identity in a real deployment: the key directory's login key (keys/login.py), checked.

`epermit serve` (SQLite) and the gunicorn wallet workers (`serve --redis`) hand the residents' OpenID4VP login
(wallet_api.login) a VerifierIdentity made from the login key and its certificate, once three things hold:
the certificate is issued by the office's root (the anchor the residents' wallets pinned), it names the
public URL's host (x509_san_dns: a wallet refuses a request whose client_id host its leaf does not name),
and it is valid now. Any of them false, the server refuses to start with what to do (zh-CN, then en):
serving a login no wallet accepts would send every resident back to per-request presentations without
anyone noticing. A key directory without a login key serves without the login, as before, and says so.
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path

from epermit.errors import UsageError
from keys import KeyRing, LoginKey, LoginKeyError, check_login_key, load_login_key
from verifier.openid4vp import VerifierIdentity

NAME_ZH = "公安局居民在线服务"
NAME_EN = "Residents' online service"
_PROBLEMS_ZH = {
    "issuer": "登录证书不是本单位根证书签发的",
    "host": "登录证书上的主机名与公网地址不符",
    "validity": "登录证书不在有效期内",
}


class LoginSetupError(UsageError):
    """The login key cannot serve this public URL (``problem``: issuer, host or validity); exit 2."""

    def __init__(self, problem: str, reason: str, keys_dir: Path, public_url: str, certified_host: str) -> None:
        zh = _PROBLEMS_ZH.get(problem, "登录密钥无法使用")
        fix = f"epermit keys login --dir {keys_dir} --public-url {public_url}"
        other_zh = other_en = ""
        if problem == "host" and certified_host:  # perhaps the public URL is what is wrong
            other_zh = f"；或以 --public-url https://{certified_host} 启动"
            other_en = f", or start with --public-url https://{certified_host}"
        super().__init__(f"{zh}，居民无法用钱包登录；请运行 `{fix}` 重新签发后再启动{other_zh}。"
                         f"The residents' login cannot start: {reason}. Re-issue it with `{fix}`, then start "
                         f"again{other_en}.")
        self.problem = problem


def login_verifier(login: LoginKey | None, ring: KeyRing, *, public_url: str, keys_dir: Path,
                   now: int) -> VerifierIdentity | None:
    """The identity the wallet API requests logins with, or None: no login key, or a plain-http public URL
    (`--insecure-http`, local development: OpenID4VP's request and response URIs are https only, so there is
    no login to check). LoginSetupError when the key cannot serve ``public_url`` (module docstring)."""
    parts = urllib.parse.urlsplit(public_url)
    if login is None or parts.scheme != "https":
        return None
    try:
        check_login_key(login, ring.root_certificate, host=parts.hostname or "", now=now)
    except LoginKeyError as exc:
        raise LoginSetupError(exc.problem, exc.reason, keys_dir, public_url, login.host) from exc
    return VerifierIdentity(login.host, login.purpose_signer(), (login.certificate,), name_zh=NAME_ZH,
                            name_en=NAME_EN)


def load_login_verifier(keys_dir: Path, passphrase: bytes, ring: KeyRing, *, public_url: str,
                        now: int) -> VerifierIdentity | None:
    """``login_verifier`` over the key directory's login key (unsealed with the keys' passphrase)."""
    return login_verifier(load_login_key(keys_dir, passphrase), ring, public_url=public_url, keys_dir=keys_dir,
                          now=now)


def login_line(identity: VerifierIdentity | None, *, has_key: bool) -> str:
    """What `epermit serve` prints about the login."""
    if identity is not None:
        return (f"resident login   OpenID4VP, {identity.client_id} (certificate issued by the office's root, until "
                f"{identity.certificates[0].not_valid_after_utc:%Y-%m-%d})")
    if has_key:
        return "resident login   off: the public URL is not https (residents present per request)"
    return ("resident login   off: no login key (residents present per request; make one with "
            "`epermit keys login --dir DIR/keys --public-url https://…`)")


__all__ = ["LoginSetupError", "load_login_verifier", "login_line", "login_verifier"]
