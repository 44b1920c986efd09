// Byte helpers: base64url, zlib inflation with an output cap (DecompressionStream "deflate" = RFC 1950).
import { malformed, VerifyError } from "./base45.js";

export function b64urlDecode(text) {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
    throw malformed("invalid base64url");
  }
  const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4));
  const out = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  if (b64urlEncode(out) !== text) throw malformed("non-canonical base64url");
  return out;
}

export function b64urlEncode(bytes) {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

export async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

/** Inflate zlib data, refusing more than maxSize bytes of output (a deflate bomb stops early). */
export async function inflate(data, maxSize) {
  const stream = new Blob([data]).stream().pipeThrough(new DecompressionStream("deflate"));
  const reader = stream.getReader();
  const chunks = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > maxSize) {
        await reader.cancel();
        throw new VerifyError("MALFORMED", `inflated data larger than ${maxSize} bytes`);
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof VerifyError) throw err;
    throw malformed("invalid zlib data");
  }
  return concat(...chunks);
}

/** Strict JSON: size cap first, duplicate keys refused (JSON.parse keeps the last silently). */
export function jsonLoads(bytes, maxSize) {
  if (bytes.length > maxSize) throw malformed("JSON too large");
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw malformed("JSON is not UTF-8");
  }
  let duplicate = false;
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    throw malformed("invalid JSON");
  }
  // Count keys per object in the text against the parsed objects: any shortfall is a duplicate key.
  const keyCount = (v) => (v && typeof v === "object" ? (Array.isArray(v) ? 0 : Object.keys(v).length) +
    Object.values(v).reduce((n, x) => n + keyCount(x), 0) : 0);
  const textKeys = (text.match(/"(?:[^"\\]|\\.)*"\s*:/g) || []).length;
  if (textKeys !== keyCount(value)) duplicate = true;
  if (duplicate) throw malformed("duplicate JSON key");
  return value;
}
