// Service worker: the page works with no network. The shell is cached at install (cache first, refreshed
// in the background when online); root.json is pinned: the first copy seen is kept for good, in a cache
// that no update deletes. Lists live in "epermit-lists-v1", written by the page after it verifies them.
const VERSION = "__BUILD_VERSION__";
const SHELL = `epermit-shell-${VERSION}`;
const ROOT = "epermit-root";
const FILES = ["./", "index.html", "app.js", "styles.css", "zxing_reader.wasm", "manifest.webmanifest", "icon.svg"];

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
      if (name.startsWith("epermit-shell-") && name !== SHELL) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin) return;
  const scope = new URL(self.registration.scope);
  if (!url.pathname.startsWith(scope.pathname)) return; // lists: the page fetches and verifies them itself
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
    const held = await shell.match(event.request, { ignoreSearch: true });
    const fresh = fetch(event.request).then(async (response) => {
      if (response.ok) await shell.put(event.request, response.clone());
      return response;
    }).catch(() => null);
    if (held) {
      event.waitUntil(fresh);
      return held;
    }
    return (await fresh) ?? new Response("offline", { status: 503 });
  })());
});
