"""The OpenID4VCI 1.0 authorization code flow of renewals (issue 16 item 2): this issuer is its own AS.

PAR (RFC 9126, required) -> /authorize: the resident authenticated by an OpenID4VP presentation
(wallet_api.login) -> redirect_uri with code, state, iss (RFC 9207) -> /token (authorization_code, PKCE
S256, DPoP-bound) -> /credential (only to the presented credential's device key) -> /notification
(credential_accepted: the old credential retired, the request done). The pre-authorized flow stays for the
first pickup and a lost phone's re-delivery (a new phone has no credential to present).

- pushed: the pushed requests; codes: the login link, the code and its redemption; routes: /par, /authorize.
"""
