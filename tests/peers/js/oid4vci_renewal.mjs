// A wallet built on @openid4vc/openid4vci (oid4vc-ts) renewing a credential by the authorization code flow
// against a running epermit issuer: issuer and AS metadata -> PAR (PKCE S256, DPoP) -> the authorization URL
// (the test answers the AS's OpenID4VP request in between: oid4vc-ts has no OpenID4VP wallet) -> token
// (authorization_code, code_verifier, DPoP) -> nonce -> key proof -> credential -> notification.
// Driven by tests/peers/test_oid4vci_renewal_peer.py.
//
// argv[2]: JSON {"offer": "openid-credential-offer://?credential_offer=…", "configuration": "…",
//                "scope": "…", "client_id": "…", "redirect_uri": "https://…", "device_jwk": {private JWK}}
// stdout: one JSON line per stage; after {"stage": "authorization"} it waits for one stdin line {"code": "…"}.
import { createHash, randomBytes, webcrypto } from 'node:crypto'
import { createInterface } from 'node:readline'
import { clientAuthenticationNone } from '@openid4vc/oauth2'
import { Openid4vciClient } from '@openid4vc/openid4vci'

const subtle = webcrypto.subtle
const args = JSON.parse(process.argv[2])
const b64url = (bytes) => Buffer.from(bytes).toString('base64url')
const emit = (object) => process.stdout.write(`${JSON.stringify(object)}\n`)

const { kty, crv, x, y } = args.device_jwk
const privateKey = await subtle.importKey('jwk', args.device_jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false,
  ['sign'])
const device = { method: 'jwk', alg: 'ES256', publicJwk: { kty, crv, x, y } }

const callbacks = {
  fetch: (...request) => fetch(...request),
  generateRandom: (length) => randomBytes(length),
  hash: (data, alg) => {
    if (alg !== 'sha-256') throw new Error(`unexpected hash ${alg}`)
    return createHash('sha256').update(data).digest()
  },
  clientAuthentication: clientAuthenticationNone({ clientId: args.client_id }),
  signJwt: async (signer, { header, payload }) => {
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`
    const signature = await subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, privateKey, Buffer.from(input))
    return { jwt: `${input}.${b64url(signature)}`, signerJwk: signer.publicJwk }
  },
}

const client = new Openid4vciClient({ callbacks })
const offer = await client.resolveCredentialOffer(args.offer)
const issuerMetadata = await client.resolveIssuerMetadata(offer.credential_issuer)
const { authorizationRequestUrl, pkce, dpop } = await client.createAuthorizationRequestUrlFromOffer({
  credentialOffer: offer, issuerMetadata, clientId: args.client_id, redirectUri: args.redirect_uri,
  scope: args.scope, dpop: { signer: device },
})
emit({ stage: 'authorization', url: authorizationRequestUrl, pkce_method: pkce?.codeChallengeMethod ?? null })
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]()
const { code } = JSON.parse((await lines.next()).value)

const { accessTokenResponse, dpop: tokenDpop } = await client.retrieveAuthorizationCodeAccessTokenFromOffer({
  credentialOffer: offer, issuerMetadata, authorizationCode: code, pkceCodeVerifier: pkce?.codeVerifier,
  redirectUri: args.redirect_uri, dpop: dpop ?? { signer: device },
})
emit({ stage: 'token', token_type: accessTokenResponse.token_type })
const accessToken = accessTokenResponse.access_token
let dpopState = tokenDpop

const { c_nonce: cNonce } = await client.requestNonce({ issuerMetadata })
const { jwt } = await client.createCredentialRequestJwtProof({
  issuerMetadata, credentialConfigurationId: args.configuration, signer: device, nonce: cNonce,
})
const issued = await client.retrieveCredentials({
  issuerMetadata, accessToken, credentialConfigurationId: args.configuration, proofs: { jwt: [jwt] }, dpop: dpopState,
})
if (dpopState && issued.dpop?.nonce) dpopState = { ...dpopState, nonce: issued.dpop.nonce }
const response = issued.credentialResponse
await client.sendNotification({
  issuerMetadata, accessToken,
  notification: { notificationId: response.notification_id, event: 'credential_accepted' }, dpop: dpopState,
})
emit({ stage: 'credentials', credentials: response.credentials.map((item) => item.credential) })
process.exit(0)
