// Build the two pages into ../wallet_api/static/<page>: the landlord's verifier (verify) and the resident's
// wallet (wallet). Each gets one bundled app.js (esbuild, no CDN at run time), its static files, and a
// service worker stamped with a content hash; the verifier also gets the zxing-wasm reader binary.
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const outRoot = process.env.EPERMIT_WEB_OUT || join(here, "..", "wallet_api", "static");
const ZXING = join(here, "node_modules", "zxing-wasm", "dist", "reader", "zxing_reader.wasm");
const PAGES = [
  { name: "verify", entry: join(here, "src", "app.js"), statics: join(here, "static"), extra: { "zxing_reader.wasm": ZXING } },
  // The wallet reads an online verifier's request QR with the same reader (web/wallet/src/scan.js).
  { name: "wallet", entry: join(here, "wallet", "src", "app.js"), statics: join(here, "wallet", "static"),
    extra: { "zxing_reader.wasm": ZXING } },
];

for (const page of PAGES) {
  const out = join(outRoot, page.name);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: [page.entry], bundle: true, format: "esm", target: ["chrome100", "safari16", "firefox110"],
    minify: true, sourcemap: false, outfile: join(out, "app.js"), legalComments: "eof", logLevel: "warning",
  });
  for (const [name, source] of Object.entries(page.extra)) copyFileSync(source, join(out, name));
  for (const name of readdirSync(page.statics).sort()) {
    if (name !== "sw.js") copyFileSync(join(page.statics, name), join(out, name));
  }
  const hash = createHash("sha256");
  for (const name of readdirSync(out).sort()) hash.update(name).update(readFileSync(join(out, name)));
  const version = hash.digest("hex").slice(0, 16);
  writeFileSync(join(out, "sw.js"), readFileSync(join(page.statics, "sw.js"), "utf8").replace("__BUILD_VERSION__", version));
  console.log(`built ${out} (version ${version})`);
}
