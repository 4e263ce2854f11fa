// fieldapp's service worker, served from /sw.js so that its scope is the whole site.
// It precaches what the capture flow needs, answers pages from the network when it answers within
// PAGE_TIMEOUT_MS and from the cache when it does not, and sends the outbox when Background Sync
// wakes it (Chromium only: the pages never rely on it).
"use strict";
const VERSION = {{ precache.version|tojson }};
const CACHE = `fieldapp-${VERSION}`;
const STATIC = {{ precache.static|list|tojson }};
const PAGES = {{ precache.pages|list|tojson }};
const OFFLINE_PAGE = "/offline";
const PAGE_TIMEOUT_MS = 3000; // a bar's wifi that connects but does not answer: after this, the cached page
const OTHER_PAGE_TIMEOUT_MS = 15000; // a page the phone does not keep: wait longer, then say so

importScripts({{ url_for("static", filename="js/store.js")|tojson }}, {{ url_for("static", filename="js/sync.js")|tojson }});

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // "no-cache": revalidate with the server (a 304 when the page just loaded the same file),
    // never cache a stale copy, and never download twice what the first visit fetched.
    await cache.addAll(STATIC.map((url) => new Request(url, { cache: "no-cache" })));
    await Promise.all(PAGES.map((url) => keepPage(cache, url)));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n.startsWith("fieldapp-") && n !== CACHE).map((n) => caches.delete(n)));
    await self.clients.claim();
  })());
});

// The collector's pages are cached only when they come back as themselves (logged in), never a
// redirect to the login page.
async function keepPage(cache, url) {
  try {
    const response = await fetch(url, { credentials: "same-origin", redirect: "manual", cache: "no-store" });
    if (response.ok && response.type === "basic") await cache.put(url, response);
  } catch (_) { /* no network: cached on the next visit */ }
}

function timeout(ms) {
  return new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), ms));
}

async function page(request) {
  const path = new URL(request.url).pathname;
  const cache = await caches.open(CACHE);
  const cacheable = PAGES.includes(path);
  const fromNetwork = fetch(request).then(async (response) => {
    if (cacheable && response.ok && response.type === "basic") await cache.put(path, response.clone());
    return response;
  });
  fromNetwork.catch(() => {}); // when the cache answers first, a late failure is no news
  try {
    return await Promise.race([fromNetwork, timeout(cacheable ? PAGE_TIMEOUT_MS : OTHER_PAGE_TIMEOUT_MS)]);
  } catch (_) {
    if (cacheable) {
      const cached = await cache.match(path);
      if (cached) return cached;
      try {
        return await Promise.race([fromNetwork, timeout(OTHER_PAGE_TIMEOUT_MS)]); // not kept yet: slow, not gone?
      } catch (_) { /* gone after all */ }
    }
    return (await cache.match(OFFLINE_PAGE)) || Response.error();
  }
}

async function cacheFirst(request) {
  const cached = await caches.match(request, { ignoreSearch: true });
  return cached || fetch(request);
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  // The API and the participants' pages always go to the network, and are never stored.
  if (url.pathname.startsWith("/api/") || url.pathname.startsWith("/p/")) return;
  if (request.mode === "navigate") {
    event.respondWith(page(request));
  } else if (STATIC.includes(url.pathname)) {
    event.respondWith(cacheFirst(request));
  }
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "refill-tickets") {
    event.waitUntil(FieldSync.refillTickets().catch(() => { /* offline: next time */ }));
  }
});

self.addEventListener("sync", (event) => {
  if (event.tag !== FieldSync.SYNC_TAG) return;
  event.waitUntil(FieldSync.syncOutbox({ now: true }).then((result) => {
    if (result && result.retry) throw new Error("Not sent yet: the browser will try again.");
  }));
});
