// Build the verifier page into ../wallet_api/static/verify: one bundled app.js (esbuild, no CDN at run
// time), the zxing-wasm reader binary, the static files, and a service worker stamped with a content hash.
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = process.env.EPERMIT_WEB_OUT || join(here, "..", "wallet_api", "static", "verify");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(here, "src", "app.js")], bundle: true, format: "esm", target: ["chrome100", "safari16", "firefox110"],
  minify: true, sourcemap: false, outfile: join(out, "app.js"), legalComments: "eof", logLevel: "warning",
});
copyFileSync(join(here, "node_modules", "zxing-wasm", "dist", "reader", "zxing_reader.wasm"), join(out, "zxing_reader.wasm"));
const hash = createHash("sha256");
for (const name of readdirSync(join(here, "static")).sort()) {
  if (name !== "sw.js") copyFileSync(join(here, "static", name), join(out, name));
}
for (const name of readdirSync(out).sort()) hash.update(name).update(readFileSync(join(out, name)));
const version = hash.digest("hex").slice(0, 16);
writeFileSync(join(out, "sw.js"), readFileSync(join(here, "static", "sw.js"), "utf8").replace("__BUILD_VERSION__", version));
console.log(`built ${out} (version ${version})`);
