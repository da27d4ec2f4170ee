/// <reference lib="webworker" />
// The service worker (docs/pwa.md "Service worker"). Why our own rather than a generated one:
// it also replays the save queue on Background Sync and takes what other apps share, with the
// same offline core the page runs (src/offline/). What it does:
// - precaches the app shell and answers every client route with index.html, but never /api/,
//   /admin/ or /static/ (nor /api/docs/) navigations: those always go to the network;
// - waits for the user's "Reload" (UpdatePrompt) before a new version takes over: it skips
//   waiting only on the page's SKIP_WAITING message (workbox-window's messageSkipWaiting);
// - `sync`: the replay of offline/sync.ts over workerApi.ts's fetch, then a pull of the copy;
// - POST /share (the Web Share Target) and GET /share (the bookmarklet): the shared link or
//   text becomes a queued create, even offline, and the app opens on it.
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from "workbox-precaching";
import { NavigationRoute, registerRoute } from "workbox-routing";
import { pullChanges } from "./offline/copy";
import { replay } from "./offline/sync";
import { SYNC_TAG, workerApi } from "./offline/workerApi";
import { sharedFieldsFromForm, sharedFieldsFromQuery, sharedLocation, type SharedFields } from "./share/fromShare";
import { IN_APP, queueShare } from "./share/queueShare";

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: Array<string | { url: string; revision: string | null }> };

interface SyncEventLike extends ExtendableEvent {
  tag: string;
  lastChance: boolean;
}

// ---- The app shell ------------------------------------------------------------------------

/** Navigations the worker never answers: the API (and its docs), the admin, Django's static files. */
const NOT_THE_APP = [/^\/api\//, /^\/admin\//, /^\/static\//];

cleanupOutdatedCaches();
// "/?shared=<id>" (where a share lands) is the app shell too, even for a plain fetch.
precacheAndRoute(self.__WB_MANIFEST, { ignoreURLParametersMatching: [/^utm_/, /^fbclid$/, /^shared$/] });

// ---- The update flow ----------------------------------------------------------------------

self.addEventListener("message", (event) => {
  const data = event.data as { type?: unknown } | null;
  if (data && data.type === "SKIP_WAITING") void self.skipWaiting();
});

// ---- Share into the app -------------------------------------------------------------------

function redirect(path: string): Response {
  return Response.redirect(new URL(path, self.location.origin).href, 303);
}

/** Queues what was shared and opens the app on it (share/queueShare.ts). */
async function share(fields: SharedFields): Promise<Response> {
  const queued = await queueShare(fields);
  if (queued.key) void registerSync();
  return redirect(queued.location);
}

registerRoute(
  ({ url, request }) => url.origin === self.location.origin && url.pathname === "/share" && request.method === "POST",
  async ({ request }) => {
    let form: FormData;
    try {
      form = await request.formData();
    } catch {
      // Not a form (a broken share): open the app rather than an error page.
      return redirect(sharedLocation(null));
    }
    return share(sharedFieldsFromForm(form));
  },
  "POST",
);

registerRoute(
  ({ url, request }) =>
    url.origin === self.location.origin &&
    url.pathname === "/share" &&
    request.mode === "navigate" &&
    !url.searchParams.has(IN_APP),
  async ({ url }) => share(sharedFieldsFromQuery(url.searchParams)),
);

// Every other client route opens the app (after the share routes: the first match answers).
registerRoute(new NavigationRoute(createHandlerBoundToURL("/index.html"), { denylist: NOT_THE_APP }));

// ---- Background Sync ----------------------------------------------------------------------

async function registerSync(): Promise<void> {
  const sync = (self.registration as ServiceWorkerRegistration & { sync?: { register(tag: string): Promise<void> } })
    .sync;
  try {
    await sync?.register(SYNC_TAG);
  } catch {
    // No Background Sync here: the page replays when it opens.
  }
}

/** The page's replay, from the worker: the Web Lock keeps it from running beside a tab's. The
 * browser calls this when it believes the network is back, so backoffs are skipped (as "Sync
 * now" does). A save that must wait rejects the event, so the browser tries again later. */
async function backgroundSync(event: SyncEventLike): Promise<void> {
  const api = workerApi({ origin: self.location.origin });
  const result = await replay({ api, force: true });
  // A tab that is replaying ("busy") pulls after its own run.
  if (result.status === "done") {
    try {
      await pullChanges(api);
    } catch {
      // The copy catches up when the page next pulls.
    }
  }
  if (result.status === "waiting" && !event.lastChance) throw new Error("Saves are still waiting to be sent.");
}

self.addEventListener("sync", (event) => {
  const sync = event as SyncEventLike;
  if (sync.tag === SYNC_TAG) sync.waitUntil(backgroundSync(sync));
});
