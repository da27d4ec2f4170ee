// Test and benchmark hooks (tests/test_pwa_offline_search.py, bench/offline.py): a browser test
// needs to time the copy's full sync and the search worker's round trip, and to queue 500
// saves without typing them. Off unless the page's localStorage has `mc-dev-hooks` = "1"
// (Playwright sets it with an init script); then `window.__mcOffline` offers the calls below.
// They are the page's own modules, nothing a user of the page cannot already do.
import { api } from "../api/client";
import type { QueuedCreate } from "../api/client";
import { CURSOR_KEY, pullChanges } from "../offline/copy";
import { offlineDb } from "../offline/db";
import { enqueueCreate, pendingCount } from "../offline/queue";
import { syncNow } from "../offline/sync";
import { offlineSearchRunsIn, searchOffline } from "./offlineSearch";

export const DEV_HOOKS_FLAG = "mc-dev-hooks";

export interface OfflineDevHooks {
  /** Empties the copy and its cursor, then pulls the whole feed; the milliseconds it took. */
  fullSync(): Promise<{ ms: number; changed: number; copy: number }>;
  /** Rows in the device copy (the `memories` store). */
  copyCount(): Promise<number>;
  /** One offline query through the search worker, timed as the screen times it. */
  search(
    query: string,
    limit?: number,
  ): Promise<{ ms: number; total: number; indexed: number; ids: string[]; runsIn: "worker" | "page" | null }>;
  enqueueCreate(fields: QueuedCreate, savedAt?: number): Promise<string>;
  pendingCount(): Promise<number>;
  /** "Sync now". */
  syncNow(): Promise<string>;
}

declare global {
  interface Window {
    __mcOffline?: OfflineDevHooks;
  }
}

function enabled(): boolean {
  try {
    return window.localStorage.getItem(DEV_HOOKS_FLAG) === "1";
  } catch {
    return false;
  }
}

/** Puts the hooks on `window` when the flag is set. */
export function installDevHooks(): void {
  if (typeof window === "undefined" || window.__mcOffline || !enabled()) return;
  window.__mcOffline = {
    async fullSync() {
      const db = await offlineDb();
      const tx = db.transaction(["memories", "meta"], "readwrite");
      await Promise.all([tx.objectStore("memories").clear(), tx.objectStore("meta").delete(CURSOR_KEY), tx.done]);
      const started = performance.now();
      const result = await pullChanges(api);
      const ms = performance.now() - started;
      return { ms, changed: result.changed, copy: await db.count("memories") };
    },
    async copyCount() {
      return (await offlineDb()).count("memories");
    },
    async search(query, limit = 20) {
      const result = await searchOffline(query, limit);
      return {
        ms: result.ms,
        total: result.total,
        indexed: result.indexed,
        ids: result.hits.map((hit) => hit.memory.id),
        runsIn: offlineSearchRunsIn(),
      };
    },
    async enqueueCreate(fields, savedAt) {
      return (await enqueueCreate(fields, savedAt)).memoryId;
    },
    pendingCount,
    async syncNow() {
      return (await syncNow()).status;
    },
  };
}
