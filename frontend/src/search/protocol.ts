// The messages between the page (offlineSearch.ts) and the search worker (searchWorker.ts).
import type { OfflineHit } from "./offlineIndex";

export type ToWorker =
  /** The copy or the queue changed: update the index. */
  | { type: "refresh" }
  | { type: "search"; id: number; query: string; limit: number };

export type FromWorker =
  | { type: "results"; id: number; hits: OfflineHit[]; total: number; indexed: number }
  | { type: "error"; id: number; message: string };
