// node tests/vectors/portrait_codes.mjs: web/src/portraitcode.js's answer for every case of
// portrait_codes.json, as one JSON line (tests/vectors/test_portrait_codes.py compares it with Python's).
import { readFileSync } from "node:fs";
import { checkPortrait } from "../../web/src/portraitcode.js";

const hex = (text) => Uint8Array.from(text.match(/../g) ?? [], (h) => parseInt(h, 16));
const toHex = (bytes) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
const { cases } = JSON.parse(readFileSync(new URL("./portrait_codes.json", import.meta.url), "utf8"));
const out = {};
for (const c of cases) {
  const r = await checkPortrait(c.codes.map(hex), c.digest === null ? null : hex(c.digest));
  out[c.name] = { check: r.check, media_type: r.mediaType, image: r.image === null ? null : toHex(r.image), reason: r.reason };
}
console.log(JSON.stringify(out));
