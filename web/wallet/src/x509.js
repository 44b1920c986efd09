// Who asks: the x5c chain of an OpenID4VP request object validated up to a CA this wallet trusts, the way
// verifier/openid4vp/authorization.py does it with cryptography.x509.verification (RFC 5280, Web PKI
// profile). The certificates are parsed by @peculiar/x509 (a maintained ASN.1/X.509 library: no DER parser
// of our own); the path rules are spelled out here so they can be read against the Python side:
// - every certificate valid at `now`; every signature checked with its issuer's key (ECDSA P-256/SHA-256);
// - an issuer is a CA (basicConstraints cA, keyCertSign when keyUsage is present, pathLen respected);
// - the leaf is no CA, names `host` as a SAN dNSName exactly (no wildcard), has digitalSignature when
//   keyUsage is present and serverAuth when extendedKeyUsage is present;
// - an unknown critical extension fails the chain (RFC 5280 §4.2); the path ends at a trust anchor.
// Only then is the leaf's key handed to the caller to check the request's signature.
import "reflect-metadata"; // @peculiar/x509 resolves its ASN.1 formatters through tsyringe, which needs it
import {
  BasicConstraintsExtension, ExtendedKeyUsageExtension, KeyUsageFlags, KeyUsagesExtension,
  SubjectAlternativeNameExtension, X509Certificate,
} from "@peculiar/x509";

export const MAX_CHAIN = 4;
const MAX_CERTIFICATE = 8 * 1024;
const SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
const OID = {
  basicConstraints: "2.5.29.19", keyUsage: "2.5.29.15", extKeyUsage: "2.5.29.37", subjectAltName: "2.5.29.17",
  subjectKeyId: "2.5.29.14", authorityKeyId: "2.5.29.35",
};
const UNDERSTOOD = new Set(Object.values(OID));
const P256 = { name: "ECDSA", namedCurve: "P-256" };

/** The chain does not lead from a certificate naming the host to a trusted CA: `reason` says where. */
export class UntrustedChainError extends Error {
  constructor(reason) {
    super(reason);
    this.reason = reason;
  }
}

const fail = (reason) => { throw new UntrustedChainError(reason); };

function parse(der, what) {
  if (!(der instanceof Uint8Array) || der.length === 0 || der.length > MAX_CERTIFICATE) fail(`${what} is not a certificate`);
  try {
    return new X509Certificate(der);
  } catch {
    return fail(`${what} cannot be read`);
  }
}

/** Base64 (standard, padded: RFC 7515 §4.1.6) DER, strictly. */
export function x5cEntry(text) {
  if (typeof text !== "string" || !/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) {
    fail("an x5c entry is not base64 DER");
  }
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

const ext = (cert, type) => cert.getExtension(type);
const equalDer = (a, b) => a.rawData.byteLength === b.rawData.byteLength
  && new Uint8Array(a.rawData).every((byte, i) => byte === new Uint8Array(b.rawData)[i]);

function checkCommon(cert, now, what) {
  for (const e of cert.extensions) {
    if (e.critical && !UNDERSTOOD.has(e.type)) fail(`${what} has an unknown critical extension ${e.type}`);
  }
  const at = now * 1000;
  if (!(cert.notBefore.getTime() <= at && at <= cert.notAfter.getTime())) fail(`${what} is not valid now`);
}

/** The leaf's SAN dNSNames. */
export function dnsNames(cert) {
  const san = ext(cert, SubjectAlternativeNameExtension);
  return san ? san.names.items.filter((n) => n.type === "dns").map((n) => n.value) : [];
}

function checkLeaf(leaf, host, now) {
  checkCommon(leaf, now, "the certificate");
  if (!dnsNames(leaf).includes(host)) fail(`the certificate does not name ${host} (SAN dNSName)`);
  if (ext(leaf, BasicConstraintsExtension)?.ca) fail("the signing certificate is a CA");
  const usage = ext(leaf, KeyUsagesExtension);
  if (usage && !(usage.usages & KeyUsageFlags.digitalSignature)) fail("the certificate may not sign");
  const extended = ext(leaf, ExtendedKeyUsageExtension);
  if (extended && !extended.usages.includes(SERVER_AUTH)) fail("the certificate is not for a server");
}

function checkIssuer(issuer, below, now) {
  checkCommon(issuer, now, "a CA certificate");
  const constraints = ext(issuer, BasicConstraintsExtension);
  if (!constraints?.ca) fail("a certificate in the chain is not a CA");
  if (constraints.pathLength !== undefined && below > constraints.pathLength) fail("a CA's path length is exceeded");
  const usage = ext(issuer, KeyUsagesExtension);
  if (usage && !(usage.usages & KeyUsageFlags.keyCertSign)) fail("a CA certificate may not sign certificates");
}

async function signedBy(cert, issuer) {
  if (cert.issuer !== issuer.subject || cert.signatureAlgorithm?.name !== "ECDSA"
      || cert.signatureAlgorithm?.hash?.name !== "SHA-256") return false;
  try {
    // signatureOnly: validity was checked at the wallet's `now` above, not at the browser's clock.
    return await cert.verify({ publicKey: await issuer.publicKey.export(P256, ["verify"]), signatureOnly: true });
  } catch {
    return false;
  }
}

/** The P-256 public CryptoKey of the validated leaf of `x5c` (base64 DER strings, leaf first). */
export async function validateChain(x5c, { host, anchors, now }) {
  if (!Array.isArray(x5c) || x5c.length < 1 || x5c.length > MAX_CHAIN) fail("the request carries no usable x5c chain");
  if (!anchors.length) fail("this wallet trusts no CA for verifiers");
  const chain = x5c.map((entry, i) => parse(x5cEntry(entry), `x5c[${i}]`));
  const leaf = chain[0];
  checkLeaf(leaf, host, now);
  // Intermediates the verifier sent, minus any trust anchor it also sent (the anchor is ours, not its).
  let pool = chain.slice(1).filter((c) => !anchors.some((a) => equalDer(a, c)));
  let current = leaf;
  for (let depth = 0; depth < MAX_CHAIN; depth++) {
    for (const anchor of anchors) {
      if (await signedBy(current, anchor)) {
        checkIssuer(anchor, depth, now);
        return leaf.publicKey.export(P256, ["verify"]).catch(() => fail("the certificate's key is not P-256"));
      }
    }
    const next = [];
    for (const candidate of pool) if (await signedBy(current, candidate)) next.push(candidate);
    if (!next.length) break;
    checkIssuer(next[0], depth, now);
    pool = pool.filter((c) => c !== next[0]);
    current = next[0];
  }
  return fail("the certificate chain does not lead to a trusted CA");
}

/** Trust anchors from base64 DER strings (the wallet API's /wallet/verifiers.json). */
export function anchorsFrom(entries) {
  if (!Array.isArray(entries) || entries.length > 64) fail("the verifier CA list cannot be read");
  return entries.map((entry, i) => parse(x5cEntry(entry), `CA ${i}`));
}
