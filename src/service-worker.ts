// The site offline. On install it stores, in a cache named for this build's version, every built
// page, the app's code, the engine and the shipped model; on activate it deletes every other
// version's cache, so a new deploy replaces the old one whole and a page never mixes two builds.
// Requests are answered from that cache first; anything else of ours that the network brings (a
// chunk the build list missed, the engine worker's own imports) is kept for the next offline visit.
/// <reference types="@sveltejs/kit" />
/// <reference no-default-lib="true"/>
/// <reference lib="esnext" />
/// <reference lib="webworker" />
import { build, files, prerendered, version } from '$service-worker';

const sw = self as unknown as ServiceWorkerGlobalScope;
const cacheName = `explorable-llm-${version}`;
// files in static/ that the site never asks for (the model card is for people browsing the repo)
const precache = [...build, ...files.filter((f) => !f.endsWith('.md')), ...prerendered];
const precached = new Set(precache);

sw.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(cacheName);
      await cache.addAll(precache);
      await cacheWorkerModules(cache);
      await sw.skipWaiting(); // the new build takes over at once rather than on the next visit
    })()
  );
});

// The engine worker and the modules it imports (the WebGPU backend, the comparison tokenizers'
// encodings) are bundled apart from the app and are not in `build`; find them from the code that
// starts the worker, and follow their imports, static and dynamic, so they work offline too.
async function cacheWorkerModules(cache: Cache): Promise<void> {
  const seen = new Set<string>();
  const queue: string[] = [];
  const found = (code: string, base: string, pattern: RegExp) => {
    for (const m of code.matchAll(pattern)) {
      const url = new URL(m[1], new URL(base, sw.location.origin)).pathname;
      if (!seen.has(url) && !precached.has(url)) {
        seen.add(url);
        queue.push(url);
      }
    }
  };
  const relative = /["'`](\.{1,2}\/[^"'`]+\.js)["'`]/g;
  for (const file of build) {
    if (!file.includes('/workers/') || !file.endsWith('.js')) continue;
    const code = await (await cache.match(file))?.text();
    if (code) found(code, file, relative);
  }
  while (queue.length > 0) {
    const url = queue.shift()!;
    const response = await fetch(url);
    if (!response.ok) throw new Error(`service worker: ${url} answered ${response.status}`);
    await cache.put(url, response.clone());
    found(await response.text(), url, relative);
  }
  for (const url of seen) precached.add(url);
}

sw.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) if (key !== cacheName) await caches.delete(key);
      await sw.clients.claim();
    })()
  );
});

sw.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== sw.location.origin) return;
  event.respondWith(
    (async () => {
      const cache = await caches.open(cacheName);
      // a page's query (?backend=cpu, an embed's state) does not change the file that serves it
      const navigate = request.mode === 'navigate';
      if (precached.has(url.pathname) || navigate) {
        const hit = await cache.match(navigate ? url.pathname : request, { ignoreSearch: navigate });
        if (hit) return hit;
      }
      try {
        const response = await fetch(request);
        if (response.ok && response.type === 'basic' && !request.headers.has('range')) cache.put(request, response.clone());
        return response;
      } catch (e) {
        const hit = await cache.match(request, { ignoreSearch: navigate });
        if (hit) return hit;
        throw e;
      }
    })()
  );
});
