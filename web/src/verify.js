// Offline verification of a scanned QR pass against the cached lists: verifier/verify.py, step for step.
// The worst true statement wins: signature and trust, then validity, then revoked or suspended, then the
// live proof, then the rest of status. The proof is checked before status; its failure is held back until
// status has been read, so a revoked card shown with a stale proof is REVOKED, a good one REPLAYED.
import { VerifyError, malformed } from "./base45.js";
import { keyFor, statusAt } from "./lists.js";
import { checkPortrait } from "./portraitcode.js";
import { QR_PREFIX, decodeQrText, verifyLiveProof, verifyPass } from "./qrpass.js";

export const MAX_INPUT = 64 * 1024;
export const POLICY = { liveWindow: 60, skew: 300, statusWarnAge: 86400, statusMaxAge: 7 * 86400, trustMaxAge: 30 * 86400 };
const RESULTS = new Set(["VALID", "REVOKED", "SUSPENDED", "EXPIRED", "NOT_YET_VALID", "UNTRUSTED_ISSUER",
  "BAD_SIGNATURE", "MALFORMED", "STATUS_UNKNOWN", "REPLAYED", "NO_HOLDER_PROOF", "NOT_SET_UP", "PORTRAIT_MISMATCH"]);
// The results a mismatched portrait overrides (verifier/verify.py): those under which the landlord would still
// go on to compare the face. Every other result already refuses, and keeps its meaning.
const PORTRAIT_OVERRIDES = new Set(["VALID", "STATUS_UNKNOWN"]);
const hexBytes = (hex) => Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));

function judgeStatus(uri, idx, lists, trust, now, found) {
  const held = lists.get(uri);
  if (!held) return ["STATUS_UNKNOWN", "no revocation data for this credential's status list"];
  found.statusAge = Math.max(0, now - held.iat);
  const value = statusAt(held, idx);
  if (value === 1) return ["REVOKED", "the issuing authority has revoked this credential"];
  if (value === 2) return ["SUSPENDED", "the issuing authority has suspended this credential"];
  if (value !== 0) return ["STATUS_UNKNOWN", `status value ${value} has no meaning here`];
  if (held.exp !== null && now >= held.exp) return ["STATUS_UNKNOWN", "revocation data expired; go online to sync"];
  if (found.statusAge > POLICY.statusMaxAge) return ["STATUS_UNKNOWN", "revocation data too old; go online to sync"];
  if (now >= trust.exp || now - trust.iat > POLICY.trustMaxAge) return ["STATUS_UNKNOWN", "trust list too old; go online to sync"];
  if (found.statusAge > POLICY.statusWarnAge) found.statusWarning = true;
  return ["VALID", "genuine, within its validity and not revoked"];
}

/** Verify one scanned text; never throws: every fault is a result. `state` = {trust, lists: Map}.
 *  `portraitCodes`: the raw bytes of the portrait codes scanned with it (portraitcode.js). */
export async function verifyText(text, state, now, portraitCodes = []) {
  const { trust, lists } = state;
  const found = { live: null, claims: null, view: null, authorityName: null, statusAge: null, statusWarning: false };
  let result;
  let reason;
  try {
    if (typeof text !== "string") throw malformed("input must be text");
    if (text.length > MAX_INPUT) throw malformed("input too large");
    text = text.trim();
    if (!text) throw malformed("empty input");
    if (!text.startsWith(QR_PREFIX)) throw malformed(`not an ${QR_PREFIX} pass`);
    const decoded = await decodeQrText(text);
    // The key's trust-list entry also gives the authority: its code must be the pass's, its name is shown.
    const verified = await verifyPass(decoded, async (kid) => keyFor(trust, kid, { purpose: "credential", now }), now);
    const key = keyFor(trust, decoded.kid, { purpose: "credential", now, type: verified.permit.type });
    found.claims = verified.permit;
    found.view = verified.view;
    found.authorityName = key.authorityName;
    found.live = false;  // until a proof verifies
    let proofError = null;
    if (decoded.proof) {
      try {
        await verifyLiveProof(decoded, verified.holder, now, POLICY.liveWindow);
        found.live = true;
      } catch (err) {
        if (!(err instanceof VerifyError)) throw err;
        proofError = err;
      }
    }
    [result, reason] = judgeStatus(verified.uri, verified.idx, lists, trust, now, found);
    if (proofError && result !== "REVOKED" && result !== "SUSPENDED") throw proofError;
  } catch (err) {
    if (err instanceof VerifyError) {
      result = RESULTS.has(err.code) ? err.code : "MALFORMED";
      reason = err.reason;
    } else {
      result = "MALFORMED";
      reason = `unreadable input (${err?.name ?? "error"})`;
    }
  }
  // Only a pass whose signature and issuer verified vouches for a face (found.claims is set from then on).
  const digest = found.claims?.portrait_sha256;
  const portrait = await checkPortrait(portraitCodes, typeof digest === "string" ? hexBytes(digest) : null);
  if (portrait.check === "mismatch" && PORTRAIT_OVERRIDES.has(result)) [result, reason] = ["PORTRAIT_MISMATCH", portrait.reason];
  return {
    result, reason, live: found.live, claims: found.claims, view: found.view, authorityName: found.authorityName,
    statusAgeSeconds: found.statusAge, statusWarning: found.statusWarning,
    trustAgeSeconds: trust ? Math.max(0, now - trust.iat) : null, trustVersion: trust?.version ?? null,
    portrait: portrait.check, portraitReason: portrait.reason, portraitMediaType: portrait.mediaType,
    portraitImage: portrait.image,
  };
}
