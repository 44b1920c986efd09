// Base45 (RFC 9285), strict like credential/base45.py: one byte string has exactly one spelling.
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
const VALUE = new Map([...ALPHABET].map((c, i) => [c, i]));

export class VerifyError extends Error {
  constructor(code, reason) {
    super(reason);
    this.code = code;
    this.reason = reason;
  }
}

export const malformed = (reason) => new VerifyError("MALFORMED", reason);

export function b45decode(text) {
  if (text.length % 3 === 1) throw malformed("invalid base45 length");
  const values = [];
  for (const ch of text) {
    const v = VALUE.get(ch);
    if (v === undefined) throw malformed("invalid base45 character");
    values.push(v);
  }
  const out = [];
  const full = values.length - (values.length % 3);
  for (let i = 0; i < full; i += 3) {
    const n = values[i] + values[i + 1] * 45 + values[i + 2] * 2025;
    if (n > 0xffff) throw malformed("base45 triple out of range");
    out.push(n >> 8, n & 0xff);
  }
  if (full < values.length) {
    const n = values[full] + values[full + 1] * 45;
    if (n > 0xff) throw malformed("base45 pair out of range");
    out.push(n);
  }
  return new Uint8Array(out);
}

/** Base45 encoding (RFC 9285): two bytes to three characters, a last odd byte to two. */
export function b45encode(bytes) {
  let out = "";
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    let n = bytes[i] * 256 + bytes[i + 1];
    out += ALPHABET[n % 45];
    n = Math.floor(n / 45);
    out += ALPHABET[n % 45] + ALPHABET[Math.floor(n / 45)];
  }
  if (bytes.length % 2) {
    const n = bytes[bytes.length - 1];
    out += ALPHABET[n % 45] + ALPHABET[Math.floor(n / 45)];
  }
  return out;
}
