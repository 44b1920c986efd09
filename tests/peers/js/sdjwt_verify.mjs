// @sd-jwt/sd-jwt-vc verifying an epermit SD-JWT VC presentation (SD-JWT+KB) and the credential's status list
// entry, against a running epermit issuer. Driven by tests/peers/test_sdjwt_peer.py.
//
// The library leaves key resolution to its caller (a `verifier` callback); this one resolves every key the
// way SD-JWT VC §5 says a verifier finds the issuer's: GET <iss>/.well-known/jwt-vc-issuer and the key of the
// JWS header's kid. The status list token is checked with the same resolution unless argv gives a key.
//
// argv[2]: JSON {"presentation": "...", "nonce": "...", "status_key": {JWK} | null}
// stdout: one JSON line {"ok": true, "claims": [...], "kb": {...}} or {"ok": false, "error": "..."}
import { digest, ES256 } from '@sd-jwt/crypto-nodejs'
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc'

const args = JSON.parse(process.argv[2])
const decode = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
const publicOnly = ({ kty, crv, x, y }) => ({ kty, crv, x, y })
const issuer = decode(args.presentation.split('~')[0].split('.')[1]).iss

async function issuerKey(kid) {
  const url = new URL(issuer)
  const response = await fetch(`${url.origin}/.well-known/jwt-vc-issuer${url.pathname.replace(/\/$/, '')}`)
  if (!response.ok) throw new Error(`jwt-vc-issuer metadata: HTTP ${response.status}`)
  const metadata = await response.json()
  if (metadata.issuer !== issuer) throw new Error('jwt-vc-issuer metadata names another issuer')
  const key = metadata.jwks.keys.find((candidate) => candidate.kid === kid)
  if (!key) throw new Error(`no key ${kid} in the issuer's jwt-vc-issuer metadata`)
  return key
}

const verifier = async (data, signature) => {
  const header = decode(data.split('.')[0])
  const key = header.typ === 'statuslist+jwt' && args.status_key ? args.status_key : await issuerKey(header.kid)
  return (await ES256.getVerifier(publicOnly(key)))(data, signature)
}

const sdjwt = new SDJwtVcInstance({
  hasher: digest,
  verifier,
  // The holder key is the credential's cnf.jwk (SD-JWT VC §3.2.2.2).
  kbVerifier: async (data, signature, payload) => (await ES256.getVerifier(publicOnly(payload.cnf.jwk)))(data, signature),
})

try {
  const result = await sdjwt.verify(args.presentation, { keyBindingNonce: args.nonce })
  const claims = await sdjwt.getClaims(args.presentation)
  process.stdout.write(`${JSON.stringify({ ok: true, claims: Object.keys(claims), kb: result.kb?.payload ?? null,
    status: result.payload.status ?? null })}\n`)
} catch (error) {
  process.stdout.write(`${JSON.stringify({ ok: false, error: String(error.message ?? error) })}\n`)
}
