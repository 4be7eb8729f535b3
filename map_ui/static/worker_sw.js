/* The phone page's service worker: the page opens with no signal.
 *
 * Served at /worker-sw.js with its scope "/worker" (a worker's scope may be no wider than its
 * script's folder, here the root); the service puts SETTINGS before this code: the cache's
 * version (a digest of the assets and of this code), the page and the assets to keep.
 * - install: keeps the page's scripts, styles and icons (served by the service itself) and
 *   the page as last served to the signed-in person;
 * - the page: from the network while there is one (kept again each time), else the kept
 *   copy — also when the network has not answered in PAGE_WAIT_MS (a signal too weak to load);
 * - the assets: from the cache (a new version of any of them is a new worker and cache);
 * - everything else, the API above all, goes to the network untouched: the page keeps its
 *   writes in its outbox (IndexedDB) until they get through, and its last answers itself. */
"use strict";

const CACHE = `worker-${SETTINGS.version}`;
const PAGE_WAIT_MS = 5000;
const ASSETS = new Set(SETTINGS.assets);

// a fresh copy (not the browser's HTTP cache), with the session cookie
const fresh = (url) => new Request(url, {cache: "reload", credentials: "same-origin"});

async function keepPage(cache, response) {
  // a redirect (signed out: the sign-in form) or a refusal is not the page
  if (response && response.ok && response.type === "basic" && !response.redirected) {
    await cache.put(SETTINGS.page, response.clone());
  }
  return response;
}

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(SETTINGS.assets.map(fresh));
    await keepPage(cache, await fetch(fresh(SETTINGS.page)).catch(() => null));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("worker-") && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

function late(ms) {
  return new Promise((resolve, reject) => setTimeout(() => reject(new Error("late")), ms));
}

async function page(event) {
  const cache = await caches.open(CACHE);
  const network = fetch(event.request).then((response) => keepPage(cache, response));
  event.waitUntil(network.catch(() => null));  // a late answer is still kept for next time
  try {
    return await Promise.race([network, late(PAGE_WAIT_MS)]);
  } catch (error) {
    const kept = await cache.match(SETTINGS.page);
    if (kept) return kept;
    return network;  // nothing kept yet: the browser says it is offline
  }
}

async function asset(request) {
  const cache = await caches.open(CACHE);
  const kept = await cache.match(request, {ignoreSearch: true});
  if (kept) return kept;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname === SETTINGS.page) {
    event.respondWith(page(event));
  } else if (ASSETS.has(url.pathname)) {
    event.respondWith(asset(request));
  }
});
