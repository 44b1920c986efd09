// A small strict CBOR decoder (RFC 8949) for the QR pass, matching credential/cose.py cbor_loads:
// definite lengths only, preferred (shortest) argument encoding, unique int/text map keys, no floats,
// no tags except COSE_Sign1 (18) where allowed, valid UTF-8, bounded depth, no trailing bytes.
import { malformed } from "./base45.js";

export class Tagged {
  constructor(tag, value) {
    this.tag = tag;
    this.value = value;
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

export function cborDecode(data, { maxSize, maxDepth = 8 }) {
  if (data.length > maxSize) throw malformed(`CBOR larger than ${maxSize} bytes`);
  let pos = 0;
  const need = (n) => {
    if (pos + n > data.length) throw malformed("truncated CBOR");
  };
  const argument = (info) => {
    if (info < 24) return info;
    const widths = { 24: 1, 25: 2, 26: 4, 27: 8 };
    const width = widths[info];
    if (width === undefined) throw malformed("indefinite lengths and reserved values are not accepted");
    need(width);
    let value = 0n;
    for (let i = 0; i < width; i++) value = (value << 8n) | BigInt(data[pos++]);
    const minimum = { 1: 24n, 2: 256n, 4: 65536n, 8: 4294967296n }[width];
    if (value < minimum) throw malformed("CBOR is not in preferred serialisation");
    return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  };
  const length = (info) => {
    const n = argument(info);
    if (typeof n !== "number" || n > data.length) throw malformed("CBOR length out of range");
    return n;
  };
  const item = (depth) => {
    if (depth > maxDepth) throw malformed("CBOR nested too deeply");
    need(1);
    const initial = data[pos++];
    const major = initial >> 5;
    const info = initial & 31;
    switch (major) {
      case 0:
        return argument(info);
      case 1: {
        const n = argument(info);
        return typeof n === "number" && n < Number.MAX_SAFE_INTEGER ? -1 - n : -1n - BigInt(n);
      }
      case 2: {
        const n = length(info);
        need(n);
        const out = data.slice(pos, pos + n);
        pos += n;
        return out;
      }
      case 3: {
        const n = length(info);
        need(n);
        let text;
        try {
          text = utf8.decode(data.subarray(pos, pos + n));
        } catch {
          throw malformed("invalid UTF-8 in CBOR text");
        }
        pos += n;
        return text;
      }
      case 4: {
        const n = length(info);
        const out = [];
        for (let i = 0; i < n; i++) out.push(item(depth + 1));
        return out;
      }
      case 5: {
        const n = length(info);
        const out = new Map();
        for (let i = 0; i < n; i++) {
          const key = item(depth + 1);
          const t = typeof key;
          if (t !== "number" && t !== "bigint" && t !== "string") {
            throw malformed("CBOR map keys must be integers or text");
          }
          const norm = t === "bigint" ? Number(key) : key;
          if (out.has(norm)) throw malformed("duplicate CBOR map key");
          out.set(norm, item(depth + 1));
        }
        return out;
      }
      case 6: {
        const tag = argument(info);
        if (tag !== 18) throw malformed("CBOR semantic tags are not accepted");
        return new Tagged(tag, item(depth + 1));
      }
      default:
        if (initial === 0xf4) return false;
        if (initial === 0xf5) return true;
        if (initial === 0xf6) return null;
        throw malformed("CBOR floats and simple values are not accepted");
    }
  };
  const value = item(0);
  if (pos !== data.length) throw malformed("trailing bytes after CBOR");
  return value;
}

// The encoder the verifier and the wallet need: COSE_Sign1, the Sig_structure, a live proof (preferred
// serialisation: the shortest head, as the strict decoders here and in Python insist on).
function head(major, n) {
  if (n < 24) return [(major << 5) | n];
  if (n < 256) return [(major << 5) | 24, n];
  if (n < 65536) return [(major << 5) | 25, n >> 8, n & 255];
  return [(major << 5) | 26, (n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
}

export function cborEncode(value) {
  const out = [];
  const put = (v) => {
    if (v instanceof Uint8Array) {
      out.push(...head(2, v.length));
      for (const b of v) out.push(b);
    } else if (typeof v === "string") {
      const bytes = new TextEncoder().encode(v);
      out.push(...head(3, bytes.length), ...bytes);
    } else if (Array.isArray(v)) {
      out.push(...head(4, v.length));
      v.forEach(put);
    } else if (v instanceof Map) {
      out.push(...head(5, v.size));
      for (const [k, x] of v) {
        put(k);
        put(x);
      }
    } else if (v instanceof Tagged) {
      out.push(...head(6, v.tag));
      put(v.value);
    } else if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v < 2 ** 32) {
      out.push(...head(0, v));
    } else if (typeof v === "number" && Number.isInteger(v) && v < 0 && v >= -(2 ** 32)) {
      out.push(...head(1, -1 - v)); // e.g. the COSE alg -7
    } else {
      throw new Error("cborEncode: unsupported value");
    }
  };
  put(value);
  return new Uint8Array(out);
}
