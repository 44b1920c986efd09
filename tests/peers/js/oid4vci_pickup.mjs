// A wallet built on @openid4vc/openid4vci (oid4vc-ts) picking up credentials from a running epermit issuer:
// offer by reference -> issuer and AS metadata -> token with PIN (DPoP-bound when asked) -> nonce -> key proofs
// -> credential(s) -> deferred polling -> notification. Driven by tests/peers/test_oid4vci_peer.py.
//
// argv[2]: JSON {"offer": "openid-credential-offer://...", "tx_code": "123456", "configuration": "...",
//                "keys": 2, "dpop": true}
// stdout: one JSON line per stage ({"stage": ...}); a deferred pickup prints {"stage": "deferred"} and then
// waits for one line on stdin (the test approves the application meanwhile) before it polls.
import { createHash, randomBytes, webcrypto } from 'node:crypto'
import { createInterface } from 'node:readline'
import { clientAuthenticationAnonymous } from '@openid4vc/oauth2'
import { Openid4vciClient } from '@openid4vc/openid4vci'

const subtle = webcrypto.subtle
const args = JSON.parse(process.argv[2])
const privateKeys = new Map() // public JWK x -> CryptoKey

const b64url = (bytes) => Buffer.from(bytes).toString('base64url')
const emit = (object) => process.stdout.write(`${JSON.stringify(object)}\n`)

async function newKey() {
  const pair = await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])
  const { kty, crv, x, y } = await subtle.exportKey('jwk', pair.publicKey)
  privateKeys.set(x, pair.privateKey)
  return { method: 'jwk', alg: 'ES256', publicJwk: { kty, crv, x, y } }
}

const callbacks = {
  fetch: (...request) => fetch(...request),
  generateRandom: (length) => randomBytes(length),
  hash: (data, alg) => {
    if (alg !== 'sha-256') throw new Error(`unexpected hash ${alg}`)
    return createHash('sha256').update(data).digest()
  },
  clientAuthentication: clientAuthenticationAnonymous(),
  signJwt: async (signer, { header, payload }) => {
    const key = privateKeys.get(signer.publicJwk.x)
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`
    // WebCrypto ECDSA signatures are r || s, which is what JWS ES256 wants.
    const signature = await subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, Buffer.from(input))
    return { jwt: `${input}.${b64url(signature)}`, signerJwk: signer.publicJwk }
  },
}

const client = new Openid4vciClient({ callbacks })
const offer = await client.resolveCredentialOffer(args.offer)
const issuerMetadata = await client.resolveIssuerMetadata(offer.credential_issuer)
const configurationId = args.configuration
emit({
  stage: 'metadata',
  configuration_ids: offer.credential_configuration_ids,
  batch_size: issuerMetadata.credentialIssuer.batch_credential_issuance?.batch_size ?? null,
  dpop_algs: issuerMetadata.authorizationServers[0].dpop_signing_alg_values_supported ?? null,
})

const dpopSigner = args.dpop ? await newKey() : undefined
const { accessTokenResponse, dpop } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
  credentialOffer: offer,
  issuerMetadata,
  txCode: args.tx_code,
  dpop: dpopSigner ? { signer: dpopSigner } : undefined,
})
emit({ stage: 'token', token_type: accessTokenResponse.token_type, dpop_nonce: dpop?.nonce ?? null })
const accessToken = accessTokenResponse.access_token
let dpopState = dpop // the signer and the latest DPoP-Nonce, carried from response to response

const holderKeys = []
for (let i = 0; i < args.keys; i += 1) holderKeys.push(await newKey())
const { c_nonce: cNonce } = await client.requestNonce({ issuerMetadata })
const jwts = []
for (const signer of holderKeys) {
  const { jwt } = await client.createCredentialRequestJwtProof({
    issuerMetadata, credentialConfigurationId: configurationId, signer, nonce: cNonce,
  })
  jwts.push(jwt)
}
const issued = await client.retrieveCredentials({
  issuerMetadata, accessToken, credentialConfigurationId: configurationId, proofs: { jwt: jwts }, dpop: dpopState,
})
if (dpopState && issued.dpop?.nonce) dpopState = { ...dpopState, nonce: issued.dpop.nonce }
let response = issued.credentialResponse

if (response.transaction_id) {
  emit({ stage: 'deferred', transaction_id: response.transaction_id, interval: response.interval })
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]()
  await lines.next() // the test has approved the application
  const polled = await client.retrieveDeferredCredentials({
    issuerMetadata, accessToken, transactionId: response.transaction_id, dpop: dpopState,
  }).catch((error) => {
    // Name what the peer refused in our answer (its schema's issues), not the whole response object.
    const issues = error.response?.deferredCredentialResponseResult?.error?.issues
    if (issues) emit({ stage: 'refused', status: error.response.response.status, issues })
    throw error
  })
  if (dpopState && polled.dpop?.nonce) dpopState = { ...dpopState, nonce: polled.dpop.nonce }
  response = polled.deferredCredentialResponse
}

await client.sendNotification({
  issuerMetadata,
  accessToken,
  notification: { notificationId: response.notification_id, event: 'credential_accepted' },
  dpop: dpopState,
})
emit({
  stage: 'credentials',
  credentials: response.credentials.map((item) => item.credential),
  holder_keys: holderKeys.map((signer) => signer.publicJwk),
  notified: response.notification_id,
})
process.exit(0)
