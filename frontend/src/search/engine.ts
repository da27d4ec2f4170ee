// The search engine the worker runs (and the page itself where Web Workers are missing): an
// OfflineIndex fed from the device's copy. Why the engine reads IndexedDB itself rather than
// being sent rows: the point of the worker is to keep the page's thread free, and reading and
// copying 5,000 rows to post them would cost that thread as much as indexing them. The copy it
// reads is `readCopy()`, the same rows the list shows (the queue's saves on top).
import { readCopy, type OfflineMemory } from "../offline/copy";
import { OfflineIndex, type OfflineAnswer } from "./offlineIndex";

export interface SearchEngine {
  /** Reads the copy again and brings the index up to date (changed rows only). Calls made
   * while one runs share a single run after it. */
  refresh(): Promise<void>;
  /** Builds the index unless it is built (or being built). */
  warm(): Promise<void>;
  /** Answers from the index, built first if it is not yet, and after the refresh under way. */
  search(query: string, limit: number): Promise<OfflineAnswer & { indexed: number }>;
}

export function createSearchEngine(readRows: () => Promise<OfflineMemory[]> = readCopy): SearchEngine {
  const index = new OfflineIndex();
  let running: Promise<void> = Promise.resolve();
  let next: Promise<void> | null = null;
  let built: Promise<void> | null = null;
  let refreshing = 0;

  function refresh(): Promise<void> {
    if (!next) {
      const run = running
        .catch(() => undefined)
        .then(async () => {
          next = null;
          refreshing++;
          try {
            index.apply(await readRows());
          } finally {
            refreshing--;
          }
        });
      next = run;
      running = run;
    }
    return next;
  }

  function warm(): Promise<void> {
    if (!built) {
      const first = refresh().then(() => index.warmUp());
      built = first;
      // A failed first read is tried again by the next query.
      first.catch(() => {
        if (built === first) built = null;
      });
    }
    return built;
  }

  async function search(query: string, limit: number) {
    await warm();
    // A change asked for before this query (a save just made) is in the answer.
    if (next || refreshing) await running.catch(() => undefined);
    return { ...index.search(query, limit), indexed: index.size };
  }

  return { refresh, warm, search };
}
