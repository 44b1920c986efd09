// Decode rate of jsQR and zxing-wasm on photo-like QR images (web/tools/make_photos.py writes them).
// node web/tools/compare_decoders.mjs DIR
import { readFileSync } from "node:fs";
import { join } from "node:path";
import jsQR from "jsqr";
import { prepareZXingModule, readBarcodesFromImageData } from "zxing-wasm/reader";

const dir = process.argv[2];
const wasmBinary = readFileSync(new URL("../node_modules/zxing-wasm/dist/reader/zxing_reader.wasm", import.meta.url));
await prepareZXingModule({ overrides: { wasmBinary }, fireImmediately: true });
const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
const score = { jsqr: { ok: 0, ms: 0 }, zxing: { ok: 0, ms: 0 } };
const rows = [];
for (const entry of index) {
  const data = new Uint8ClampedArray(readFileSync(join(dir, entry.file)));
  let t = performance.now();
  const a = jsQR(data, entry.width, entry.height, { inversionAttempts: "dontInvert" });
  score.jsqr.ms += performance.now() - t;
  const jsOk = a?.data === entry.text;
  t = performance.now();
  const b = await readBarcodesFromImageData({ data, width: entry.width, height: entry.height, colorSpace: "srgb" },
    { formats: ["QRCode"], tryHarder: true, maxNumberOfSymbols: 1 });
  score.zxing.ms += performance.now() - t;
  const zxOk = b[0]?.text === entry.text;
  score.jsqr.ok += jsOk;
  score.zxing.ok += zxOk;
  rows.push(`${entry.file.padEnd(34)} jsQR ${jsOk ? "ok  " : "FAIL"} zxing ${zxOk ? "ok" : "FAIL"}`);
}
console.log(rows.join("\n"));
for (const [name, s] of Object.entries(score)) {
  console.log(`${name}: ${s.ok}/${index.length} decoded, ${(s.ms / index.length).toFixed(1)} ms/image`);
}
