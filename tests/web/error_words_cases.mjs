// node tests/web/error_words_cases.mjs < cases.json: what the wallet PWA tells the resident about a refusal of
// the wallet API (test_wallet_error_words.py): each case's answer is served to http.js call() by a stand-in
// fetch (the same bytes a Flask error handler sends), and the WalletError it throws is put into words by
// requestswords.js requestErrorText, in Chinese and in English.
import { readFileSync } from "node:fs";
import { call } from "../../web/wallet/src/http.js";
import { requestErrorText } from "../../web/wallet/src/requestswords.js";

const ORIGIN = "https://epermit.example";
globalThis.location = new URL(`${ORIGIN}/wallet/`);
const cases = JSON.parse(readFileSync(0, "utf8"));
const answers = [];
for (const { status, body } of cases) {
  globalThis.fetch = async () => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
  try {
    await call(`${ORIGIN}/resident/requests`, { method: "POST", json: {} });
    answers.push({ thrown: null });
  } catch (err) {
    answers.push({ error: err.data?.error ?? null, zh: requestErrorText(err, "zh"), en: requestErrorText(err, "en") });
  }
}
console.log(JSON.stringify(answers));
