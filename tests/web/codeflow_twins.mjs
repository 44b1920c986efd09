// node tests/web/codeflow_twins.mjs < cases.json: the wallet PWA's JWK thumbprint (jwkthumb.js) and its reading
// of an authorization response (codeflow.js) for every case, as one JSON line (test_codeflow_twins.py compares
// them with credential/jwk.py and epermit/wallet/renewal.py).
import { readFileSync } from "node:fs";
import { authorizationResponse } from "../../web/wallet/src/codeflow.js";
import { jwkThumbprint } from "../../web/wallet/src/jwkthumb.js";

const { jwks, responses } = JSON.parse(readFileSync(0, "utf8"));
const thumbprints = [];
for (const jwk of jwks) thumbprints.push(await jwkThumbprint(jwk));
const read = responses.map(({ redirect, issuer, state }) => {
  try {
    return { code: authorizationResponse(redirect, { issuer, state }) };
  } catch (err) {
    return { error: err.data?.error ?? err.kind };
  }
});
console.log(JSON.stringify({ thumbprints, responses: read }));
