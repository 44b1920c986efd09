// The anchors of the bureau's own login: the office's root, trusted for its issuer's login and nothing else,
// as the command-line wallet does it (epermit/wallet/anchors.py).
//
// A real deployment signs its residents' login requests under a certificate from the office's root
// (keys/login.py); /wallet/verifiers.json names that root beside the verifier CA bundle, for one client_id:
//   {"certificates": [<bundle>], "issuer_login": {"client_id": "x509_san_dns:<host>", "certificates": [<root>]}}
// The root vouches for the bureau's service, not for employers: so it is an anchor only
//   - for a login request (never a presentation to a verifier: presentview.js reads the bundle alone),
//   - whose client_id is exactly issuer_login.client_id and the host of the card's own issuer,
//   - when this wallet's trust list (verified under the root it pinned, status.js) names that issuer, and
//   - when the certificate served IS that pinned root (its key's thumbprint): the page that serves the list
//     could otherwise name any CA for the login, and the pinned root is what the wallet already believes.
// Anything short of that leaves the bundle alone to prove the request; refused, the resident is told why.
import { keyId } from "../../src/ec.js";
import { anchorsFrom } from "./x509.js";

const P256 = { name: "ECDSA", namedCurve: "P-256" };

/** The thumbprint of a certificate's P-256 key, or null when it has none. */
async function certificateKid(certificate) {
  try {
    return await keyId(await crypto.subtle.exportKey("jwk", await certificate.publicKey.export(P256, ["verify"])));
  } catch {
    return null;
  }
}

/** The anchors a login request of `clientId` for `card` is proved with: {anchors, refusal}. `served`: the
 * parsed verifiers.json; `trust`: the verified trust list (lists.js, with the root it was verified under) or
 * null. `refusal` names why the issuer's root was not added although the list names one for this client_id
 * (requestswords.js: login_root_*): the resident is told that, not just "untrusted", if the bundle fails too. */
export async function loginAnchors(served, { clientId, card, trust }) {
  const bundle = anchorsFrom(served?.certificates ?? []);
  const named = served?.issuer_login;
  if (named === undefined || named === null) return { anchors: bundle, refusal: null };
  if (typeof named !== "object" || named.client_id !== clientId) return { anchors: bundle, refusal: null };
  if (!trust?.root || trust.issuer !== card.issuer) return { anchors: bundle, refusal: "login_root_unpinned" };
  let offered;
  try {
    offered = anchorsFrom(named.certificates);
  } catch {
    return { anchors: bundle, refusal: "login_root_mismatch" };
  }
  const pinned = await keyId(trust.root);
  const kids = await Promise.all(offered.map(certificateKid));
  if (!offered.length || kids.some((kid) => kid !== pinned)) return { anchors: bundle, refusal: "login_root_mismatch" };
  return { anchors: [...bundle, ...offered], refusal: null };
}
