// The verifier's lists, kept in Cache Storage (signed public documents only: never a scan or holder data).
// Sync fetches /trustlist.jwt and every status list the trust list and /statuslists name; it keeps the
// newest trust list version and the newest status list iat it has verified (no rollback). Status lists are
// asked for as CWT (a quarter smaller than the JWT) and kept as received; a server that sends the JWT
// instead is answered by keeping the JWT.
import { isCwt, verifyStatusList, verifyStatusListCwt, verifyTrustList } from "./lists.js";

const CACHE = "epermit-lists-v1";
const TRUST_KEY = "/__epermit__/trustlist.jwt";
const statusKey = (uri) => `/__epermit__/status/${encodeURIComponent(uri)}`;
const META_KEY = "/__epermit__/meta.json";
export const STATUS_ACCEPT = "application/statuslist+cwt, application/statuslist+jwt;q=0.5";

async function readText(cache, key) {
  const response = await cache.match(key);
  return response ? response.text() : null;
}

async function readBytes(cache, key) {
  const response = await cache.match(key);
  return response ? new Uint8Array(await response.arrayBuffer()) : null;
}

async function put(cache, key, body, type = "text/plain") {
  await cache.put(key, new Response(body, { headers: { "Content-Type": type } }));
}

/** A status list in whichever form its bytes are: the CWT, or the JWT as ASCII text. */
async function verifyEither(bytes, uri, trust, now) {
  if (isCwt(bytes)) return verifyStatusListCwt(bytes, uri, trust, now);
  return verifyStatusList(new TextDecoder().decode(bytes).trim(), uri, trust, now);
}

export async function loadRoot(base) {
  const response = await fetch(new URL("root.json", base));
  if (!response.ok) throw new Error("no pinned root");
  const doc = await response.json();
  return doc.jwk;
}

/** What is held: the verified trust list, the verified status lists, and when the last sync succeeded. */
export async function loadState(rootJwk, now) {
  const cache = await caches.open(CACHE);
  const meta = JSON.parse((await readText(cache, META_KEY)) ?? "{}");
  let trust = null;
  const token = await readText(cache, TRUST_KEY);
  if (token) {
    try {
      trust = await verifyTrustList(token, rootJwk);
    } catch {
      trust = null;
    }
  }
  const lists = new Map();
  if (trust) {
    for (const uri of meta.statusUris ?? []) {
      const held = await readBytes(cache, statusKey(uri));
      if (!held) continue;
      try {
        lists.set(uri, await verifyEither(held, uri, trust, now));
      } catch {
        // an expired or unreadable list is as good as none: the verdict will say STATUS_UNKNOWN
      }
    }
  }
  return { trust, lists, syncedAt: meta.syncedAt ?? null };
}

async function fetchBody(url, accept = null) {
  const response = await fetch(url, { cache: "no-store", headers: accept ? { Accept: accept } : {} });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response;
}

/** Fetch and verify everything; keep only what verifies and is not older than what is held. */
export async function sync(origin, rootJwk, now) {
  const cache = await caches.open(CACHE);
  const held = await loadState(rootJwk, now);
  let trust = held.trust;
  const offered = await verifyTrustList(await (await fetchBody(new URL("/trustlist.jwt", origin))).text(), rootJwk,
    { minVersion: 0 });
  if (!trust || offered.version >= trust.version) {
    trust = offered;
    await put(cache, TRUST_KEY, offered.token);
  }
  const uris = new Set(trust.statusLists);
  try {
    const aggregation = JSON.parse(await (await fetchBody(new URL("/statuslists", origin))).text());
    for (const uri of aggregation.status_lists ?? []) if (typeof uri === "string") uris.add(uri);
  } catch {
    // the aggregation is a convenience: the trust list names the lists too
  }
  const failures = [];
  for (const uri of uris) {
    try {
      const bytes = new Uint8Array(await (await fetchBody(uri, STATUS_ACCEPT)).arrayBuffer());
      const list = await verifyEither(bytes, uri, trust, now); // the bytes pick the form, not Content-Type
      const old = held.lists.get(uri);
      if (!old || list.iat >= old.iat) {
        await put(cache, statusKey(uri), bytes, isCwt(bytes) ? "application/statuslist+cwt" : "application/statuslist+jwt");
      }
    } catch (err) {
      failures.push(`${uri}: ${err.message}`);
    }
  }
  await put(cache, META_KEY, JSON.stringify({ statusUris: [...uris], syncedAt: now }));
  return failures;
}
