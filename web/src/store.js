// The verifier's lists, kept in Cache Storage (signed public documents only: never a scan or holder data).
// Sync fetches /trustlist.jwt and every status list the trust list and /statuslists name; it keeps the
// newest trust list version and the newest status list iat it has verified (no rollback).
import { verifyStatusList, verifyTrustList } from "./lists.js";

const CACHE = "epermit-lists-v1";
const TRUST_KEY = "/__epermit__/trustlist.jwt";
const statusKey = (uri) => `/__epermit__/status/${encodeURIComponent(uri)}`;
const META_KEY = "/__epermit__/meta.json";

async function readText(cache, key) {
  const response = await cache.match(key);
  return response ? response.text() : null;
}

async function put(cache, key, text) {
  await cache.put(key, new Response(text, { headers: { "Content-Type": "text/plain" } }));
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
      const held = await readText(cache, statusKey(uri));
      if (!held) continue;
      try {
        lists.set(uri, await verifyStatusList(held, uri, trust, now));
      } catch {
        // an expired or unreadable list is as good as none: the verdict will say STATUS_UNKNOWN
      }
    }
  }
  return { trust, lists, syncedAt: meta.syncedAt ?? null };
}

async function fetchText(url) {
  const response = await fetch(url, { cache: "no-store" });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.text();
}

/** Fetch and verify everything; keep only what verifies and is not older than what is held. */
export async function sync(origin, rootJwk, now) {
  const cache = await caches.open(CACHE);
  const held = await loadState(rootJwk, now);
  let trust = held.trust;
  const offered = await verifyTrustList(await fetchText(new URL("/trustlist.jwt", origin)), rootJwk,
    { minVersion: 0 });
  if (!trust || offered.version >= trust.version) {
    trust = offered;
    await put(cache, TRUST_KEY, offered.token);
  }
  const uris = new Set(trust.statusLists);
  try {
    const aggregation = JSON.parse(await fetchText(new URL("/statuslists", origin)));
    for (const uri of aggregation.status_lists ?? []) if (typeof uri === "string") uris.add(uri);
  } catch {
    // the aggregation is a convenience: the trust list names the lists too
  }
  const failures = [];
  for (const uri of uris) {
    try {
      const token = await fetchText(uri);
      const list = await verifyStatusList(token, uri, trust, now);
      const old = held.lists.get(uri);
      if (!old || list.iat >= old.iat) await put(cache, statusKey(uri), token);
    } catch (err) {
      failures.push(`${uri}: ${err.message}`);
    }
  }
  await put(cache, META_KEY, JSON.stringify({ statusUris: [...uris], syncedAt: now }));
  return failures;
}
