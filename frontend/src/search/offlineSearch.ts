// The page's side of offline search: one search worker per page, started when the search
// screen first opens and kept for the page's life; it is told when the copy or the queue
// changed (in this tab or, through events.ts's channel, another), so its index follows the
// device's copy without a rebuild per query. Where Web Workers are missing (or the worker
// cannot load), the same engine runs on the page.
import { subscribe } from "../offline/events";
import { createSearchEngine, type SearchEngine } from "./engine";
import type { OfflineHit } from "./offlineIndex";
import type { FromWorker, ToWorker } from "./protocol";

export interface OfflineSearchResult {
  hits: OfflineHit[];
  total: number;
  /** Memories in the index when it answered. */
  indexed: number;
  /** From posting the query to having the results on the page (performance.now()). */
  ms: number;
}

interface Backend {
  kind: "worker" | "page";
  refresh(): void;
  search(query: string, limit: number): Promise<Omit<OfflineSearchResult, "ms">>;
  close(): void;
}

function pageBackend(): Backend {
  const engine: SearchEngine = createSearchEngine();
  engine.warm().catch(() => undefined);
  return {
    kind: "page",
    refresh: () => void engine.refresh().catch(() => undefined),
    search: (query, limit) => engine.search(query, limit),
    close: () => undefined,
  };
}

function workerBackend(onBroken: () => void): Backend {
  const worker = new Worker(new URL("./searchWorker.ts", import.meta.url), { type: "module" });
  const waiting = new Map<number, { resolve: (answer: Omit<OfflineSearchResult, "ms">) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  let broken = false;
  worker.addEventListener("message", (event: MessageEvent<FromWorker>) => {
    const message = event.data;
    const pending = waiting.get(message.id);
    if (!pending) return;
    waiting.delete(message.id);
    if (message.type === "results") {
      pending.resolve({ hits: message.hits, total: message.total, indexed: message.indexed });
    } else {
      pending.reject(new Error(message.message));
    }
  });
  worker.addEventListener("error", (event) => {
    // The script did not load or threw at start (an old cache, a missing chunk offline): the
    // page takes over, and the queries in flight are asked again there.
    event.preventDefault();
    broken = true;
    worker.terminate();
    onBroken();
    for (const [id, pending] of waiting) {
      waiting.delete(id);
      pending.reject(new WorkerBroken());
    }
  });
  const post = (message: ToWorker) => worker.postMessage(message);
  return {
    kind: "worker",
    refresh: () => {
      if (!broken) post({ type: "refresh" });
    },
    search: (query, limit) =>
      new Promise((resolve, reject) => {
        if (broken) {
          reject(new WorkerBroken());
          return;
        }
        const id = nextId++;
        waiting.set(id, { resolve, reject });
        post({ type: "search", id, query, limit });
      }),
    close: () => worker.terminate(),
  };
}

class WorkerBroken extends Error {
  constructor() {
    super("The search worker stopped.");
  }
}

/** Changes are passed on at most this often: a replay of 500 saves changes the queue 1,500
 * times, and each refresh reads the whole copy and queue (on a phone's few cores, time the
 * replay wants). A query asked meanwhile passes the change on first, so no answer misses it. */
export const REFRESH_EVERY_MS = 1000;

let backend: Backend | null = null;
let unsubscribe: (() => void) | null = null;
let refreshTimer: ReturnType<typeof setTimeout> | null = null;

function refreshNow(): void {
  if (refreshTimer !== null) clearTimeout(refreshTimer);
  refreshTimer = null;
  backend?.refresh();
}

function refreshSoon(): void {
  if (refreshTimer === null) refreshTimer = setTimeout(refreshNow, REFRESH_EVERY_MS);
}

/** Starts the search worker (once per page) and keeps its index following the copy. */
export function startOfflineSearch(): void {
  if (backend) return;
  if (typeof Worker === "function") {
    try {
      backend = workerBackend(() => {
        backend = pageBackend();
      });
    } catch {
      backend = pageBackend();
    }
  } else {
    backend = pageBackend();
  }
  unsubscribe = subscribe((event) => {
    if (event.type === "copy" || event.type === "queue") refreshSoon();
  });
}

/** Where the index runs: in the search worker, on the page (no Web Workers, or the worker
 * failed to load), or nowhere yet. */
export function offlineSearchRunsIn(): "worker" | "page" | null {
  return backend?.kind ?? null;
}

/** The memories on the device that match `query`, best first, at most `limit`. */
export async function searchOffline(query: string, limit = 20): Promise<OfflineSearchResult> {
  startOfflineSearch();
  const started = performance.now();
  if (refreshTimer !== null) refreshNow();
  let answer: Omit<OfflineSearchResult, "ms">;
  try {
    answer = await backend!.search(query, limit);
  } catch (error) {
    if (!(error instanceof WorkerBroken)) throw error;
    answer = await backend!.search(query, limit);
  }
  return { ...answer, ms: performance.now() - started };
}

/** Stops the worker and the event subscription (tests; the next search starts them again). */
export function stopOfflineSearch(): void {
  if (refreshTimer !== null) clearTimeout(refreshTimer);
  refreshTimer = null;
  unsubscribe?.();
  unsubscribe = null;
  backend?.close();
  backend = null;
}
