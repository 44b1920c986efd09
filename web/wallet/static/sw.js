// The wallet's service worker: the page works with no network once opened. The shell is cached at install
// (cache first, refreshed in the background when online); root.json is pinned like the verifier's: the
// first copy seen is kept for good, in a cache no update deletes. Its caches are named apart from the
// verifier page's (same origin, one Cache Storage): neither page's update deletes the other's.
// Nothing of the resident's is cached here: cards, keys and the log live in IndexedDB.
const VERSION = "__BUILD_VERSION__";
const SHELL = `epermit-wallet-shell-${VERSION}`;
const ROOT = "epermit-wallet-root";
const FILES = ["./", "index.html", "app.js", "styles.css", "manifest.webmanifest", "icon.svg"];

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const shell = await caches.open(SHELL);
    await shell.addAll(FILES);
    const root = await caches.open(ROOT);
    if (!(await root.match("root.json"))) await root.add("root.json");
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("epermit-wallet-shell-") && name !== SHELL) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin) return;
  const scope = new URL(self.registration.scope);
  if (!url.pathname.startsWith(scope.pathname)) return; // issuer endpoints and lists: always the network
  // The CAs trusted for verifiers: always the operator's current list, never a cached one.
  if (url.pathname === `${scope.pathname}verifiers.json`) return;
  if (url.pathname === `${scope.pathname}root.json`) {
    event.respondWith((async () => {
      const root = await caches.open(ROOT);
      const held = await root.match("root.json");
      if (held) return held;
      const response = await fetch(event.request);
      if (response.ok) await root.put("root.json", response.clone());
      return response;
    })());
    return;
  }
  event.respondWith((async () => {
    const shell = await caches.open(SHELL);
    // The page is one document whatever its query (?credential_offer_uri=...): match it without the query.
    const held = await shell.match(event.request, { ignoreSearch: true });
    const fresh = fetch(event.request).then(async (response) => {
      if (response.ok && !url.search) await shell.put(event.request, response.clone());
      return response;
    }).catch(() => null);
    if (held) {
      event.waitUntil(fresh);
      return held;
    }
    return (await fresh) ?? new Response("offline", { status: 503 });
  })());
});
