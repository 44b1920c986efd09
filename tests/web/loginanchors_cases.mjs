// node tests/web/loginanchors_cases.mjs < cases.json: which anchors the wallet PWA proves a login request with
// (web/wallet/src/loginanchors.js), for every case, as one JSON line (test_login_anchors.py): the anchors'
// DER (base64) and the refusal.
import { readFileSync } from "node:fs";
import { loginAnchors } from "../../web/wallet/src/loginanchors.js";

const b64 = (raw) => Buffer.from(raw).toString("base64");
const cases = JSON.parse(readFileSync(0, "utf8"));
const answers = [];
for (const { served, clientId, card, trust } of cases) {
  try {
    const { anchors, refusal } = await loginAnchors(served, { clientId, card, trust });
    answers.push({ anchors: anchors.map((a) => b64(a.rawData)), refusal });
  } catch (err) {
    answers.push({ error: err.constructor.name });
  }
}
console.log(JSON.stringify(answers));
