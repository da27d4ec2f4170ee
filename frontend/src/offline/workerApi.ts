// The service worker's side of the replay (PWA.md "Capture never fails": Background Sync), and
// the page's part in it. Why a second API client: the worker has no `document`, so client.ts's
// `request` (which reads the CSRF cookie from document.cookie) cannot run there. This one sends
// the same requests (same-origin credentials, Idempotency-Key, If-Match, X-CSRFToken) and
// raises the same ApiError, so sync.ts's `replay` treats its answers exactly as the page's.
// Why the CSRF token goes through IndexedDB: the page can read the csrftoken cookie and the
// worker cannot (everywhere but Chrome). And the token the page stored vouches for the session:
// the page stores it once the device's stores are its account's (at start, after sign-in,
// before each sync registration), and sign-out removes it. Django changes the token at
// sign-in, so when another account signs in, the worker's token is refused until that
// account's page has claimed the device: the worker never sends one account's saves with
// another's session (which reading the live cookie would). A request refused for its CSRF
// token is reported as "signed out" (401): the replay then stops and leaves every save waiting
// for the page, rather than parking it as "needs attention".
import {
  ACCOUNT_HEADER,
  answerOf,
  ApiError,
  readCookie,
  toApiError,
  type ChangesPage,
  type Memory,
  type MemoryChanges,
  type MemorySave,
  type QueuedCreate,
} from "../api/client";
import { deviceOwner } from "./account";
import type { ChangesApi } from "./copy";
import { offlineDb } from "./db";
import { subscribe } from "./events";
import { pendingCount } from "./queue";
import type { SyncApi } from "./sync";

/** The `meta` key of the CSRF token the page last saw. */
export const CSRF_META_KEY = "csrf_token";
/** The Background Sync tag: one registration stands for "the queue holds saves". */
export const SYNC_TAG = "memory-connector-sync";
const CSRF_COOKIE = "csrftoken";

/** A request as the worker sends it (built apart from sending, so it can be checked). */
export interface ApiRequest {
  url: string;
  init: RequestInit & { headers: Record<string, string> };
}

export interface BuildOptions {
  /** X-CSRFToken for unsafe methods ("" to send none). */
  csrfToken: string;
  /** X-Account-Id: the account whose queue this is (none: not sent). */
  account?: string | null;
  /** The site's origin: a worker resolves "/api/…" against it. */
  origin?: string;
}

function build(
  method: string,
  path: string,
  { csrfToken, origin, account }: BuildOptions,
  body?: unknown,
  extra: Record<string, string> = {},
): ApiRequest {
  const headers: Record<string, string> = { Accept: "application/json", ...extra };
  if (account) headers[ACCOUNT_HEADER] = account;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["X-CSRFToken"] = csrfToken;
  return {
    url: origin ? new URL(path, origin).href : path,
    init: {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    },
  };
}

function memoryPath(id: string): string {
  return `/api/v1/memories/${encodeURIComponent(id)}`;
}

/** The requests of the replay and the pull, as client.ts's `api` makes them. */
export const requests = {
  createMemory: (memory: QueuedCreate, idempotencyKey: string, options: BuildOptions) =>
    build("POST", "/api/v1/memories", options, memory, { "Idempotency-Key": idempotencyKey }),
  updateMemory: (id: string, changes: MemoryChanges, baseVersion: number, idempotencyKey: string, options: BuildOptions) =>
    build("PATCH", memoryPath(id), options, changes, {
      "If-Match": `"${baseVersion}"`,
      "Idempotency-Key": idempotencyKey,
    }),
  deleteMemory: (id: string, idempotencyKey: string, options: BuildOptions) =>
    build("DELETE", memoryPath(id), options, undefined, { "Idempotency-Key": idempotencyKey }),
  memoryChanges: (since: string | null, options: BuildOptions, limit = 500) => {
    const params = new URLSearchParams({ limit: String(limit) });
    if (since) params.set("since", since);
    return build("GET", `/api/v1/memories/changes?${params.toString()}`, options);
  },
};

/** An error answer as client.ts reads it, but a request refused for its CSRF token is a 401. */
export async function errorFrom(response: Response): Promise<ApiError> {
  const error = await toApiError(response);
  if (error.status === 403 && /^CSRF Failed/i.test(error.detail)) {
    // The token the worker holds is stale (a sign-in since): the page will send these saves.
    return new ApiError(401, "csrf_failed", error.detail, {}, null, error.body);
  }
  return error;
}

export interface WorkerApiOptions {
  fetch?: typeof fetch;
  /** The CSRF token to send (default: the one the page stored). */
  csrfToken?: () => Promise<string>;
  /** The account the queue belongs to (default: the device's owner, offline/account.ts, read
   * at this api's first request). */
  account?: () => Promise<string | null>;
  origin?: string;
}

/** The replay's and the pull's calls over the worker's fetch. */
export function workerApi(options: WorkerApiOptions = {}): SyncApi & ChangesApi {
  const send = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const token = options.csrfToken ?? storedCsrfToken;
  // The owner is read once: if another account claims the device during a run, what the run
  // still sends names the first account and is refused (401 account_changed).
  let owner: Promise<string | null> | undefined;
  const account = options.account ?? (() => (owner ??= deviceOwner()));
  const origin = options.origin;

  // Each request names the account whose queue it sends: with another account's session (signed
  // in in a tab since), the server refuses it (401 account_changed) and the replay stops.
  async function call<T>(make: (build: BuildOptions) => ApiRequest, signal?: AbortSignal): Promise<T> {
    const { url, init } = make({ csrfToken: await token(), origin, account: await account() });
    return answerOf<T>(send(url, { ...init, signal }), errorFrom);
  }

  return {
    createMemory: (memory, key) => call<MemorySave>((b) => requests.createMemory(memory, key, b)),
    updateMemory: (id, changes, baseVersion, key) =>
      call<Memory>((b) => requests.updateMemory(id, changes, baseVersion, key, b)),
    deleteMemory: (id, key) => call<null>((b) => requests.deleteMemory(id, key, b)),
    memoryChanges: (since, signal) => call<ChangesPage>((b) => requests.memoryChanges(since ?? null, b), signal),
  };
}

// ---- The token ------------------------------------------------------------------------------

/** Stores the page's current CSRF token for the worker (at start, after sign-in, before a sync
 * registration). Never throws: without IndexedDB the worker simply has no token. */
export async function rememberCsrfToken(cookies?: string): Promise<void> {
  try {
    const token = readCookie(CSRF_COOKIE, cookies ?? document.cookie);
    const db = await offlineDb();
    if (token) await db.put("meta", token, CSRF_META_KEY);
    else await db.delete("meta", CSRF_META_KEY);
  } catch {
    // No database (private mode, a full disk): the worker's requests will go without it.
  }
}

/** The token the page stored, or "": the one the worker sends (never the live cookie, which may
 * be a session the device's stores do not belong to yet). */
export async function storedCsrfToken(): Promise<string> {
  try {
    const token = await (await offlineDb()).get("meta", CSRF_META_KEY);
    return typeof token === "string" ? token : "";
  } catch {
    return "";
  }
}

// ---- The page's Background Sync registration ---------------------------------------------

interface SyncManagerLike {
  register(tag: string): Promise<void>;
}

async function syncManager(): Promise<SyncManagerLike | null> {
  const container = (globalThis as { navigator?: { serviceWorker?: ServiceWorkerContainer } }).navigator
    ?.serviceWorker;
  if (!container) return null;
  const registration = await container.getRegistration();
  return (registration as (ServiceWorkerRegistration & { sync?: SyncManagerLike }) | undefined)?.sync ?? null;
}

/** Asks the browser for a `sync` event (the worker replays then, even after the page is closed)
 * when the queue holds saves and the browser has Background Sync; the token is stored first.
 * Returns whether a sync was registered. */
export async function requestBackgroundSync(): Promise<boolean> {
  try {
    if ((await pendingCount()) === 0) return false;
    const sync = await syncManager();
    if (!sync) return false;
    await rememberCsrfToken();
    await sync.register(SYNC_TAG);
    return true;
  } catch {
    // Not allowed (no worker yet, a permission): the page's own replay sends the saves.
    return false;
  }
}

/** The page's wiring: stores the CSRF token now and when the page comes back into view, and
 * registers the sync tag at start, when a save is queued (here or in another tab) and when the
 * network returns. Returns the unwiring. */
export function startBackgroundSync(): () => void {
  const request = () => void requestBackgroundSync();
  const onVisible = () => {
    if (document.visibilityState === "visible") void rememberCsrfToken();
  };
  void rememberCsrfToken().then(request);
  window.addEventListener("online", request);
  document.addEventListener("visibilitychange", onVisible);
  const unsubscribe = subscribe((event) => {
    if (event.type === "enqueued") request();
  });
  return () => {
    window.removeEventListener("online", request);
    document.removeEventListener("visibilitychange", onVisible);
    unsubscribe();
  };
}
