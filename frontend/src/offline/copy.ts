// The device's copy of the user's memories (PWA.md "The device keeps a copy"), kept by the
// server's changes feed, so the list, a memory and keyword search work without a network.
// Why each page is applied in one transaction with its cursor: a tab closed mid-sync resumes
// from the last page it stored, never from a cursor ahead of its rows. Why upsert keeping the
// higher version: the feed re-sends its last seconds, and a save this device just made may be
// newer than a page fetched before it. Why a full sync sweeps instead of clearing first: the
// list must not go blank while 5,000 rows come back in.
// What the user sees is the copy with the queue on top (their own saves, with their state),
// so the screens never need to know what was sent yet.
import { ApiError, type ChangesPage, type Memory, type MemoryChanges, type QueuedCreate } from "../api/client";
import { SESSION_KEY, offlineDb, upsertCopyRow, type QueueEntry, type QueueState } from "./db";
import { emit } from "./events";
import { listEntries } from "./queue";

export const CURSOR_KEY = "changes_cursor";
export const LAST_SYNC_KEY = "last_sync_at";
/** Pages of one pull at most (500 rows each): a feed that keeps saying `more` is not followed forever. */
export const MAX_PAGES = 1000;

/** The call the pull makes (client.ts's `api` has it). */
export interface ChangesApi {
  memoryChanges(since?: string | null, signal?: AbortSignal): Promise<ChangesPage>;
}

export interface PullResult {
  /** Rows written or replaced, and ids deleted. */
  changed: number;
  deleted: number;
  /** The copy was rebuilt from the start (first sync, or the cursor expired). */
  full: boolean;
}

/** Brings the copy up to date with the server: pages of the changes feed since the stored
 * cursor, each upserted by id (keeping the higher version) with its deletions; a 410
 * `cursor_expired` starts over without a cursor and replaces the copy. Only within a session
 * (offline/account.ts): none, none is pulled (signed out); it stops without writing once the
 * device's session is no longer the one it began in (a sign-out, another sign-in). */
export async function pullChanges(api: ChangesApi, signal?: AbortSignal): Promise<PullResult> {
  const db = await offlineDb();
  const session = await db.get("meta", SESSION_KEY);
  if (session === undefined) return { changed: 0, deleted: 0, full: false }; // nobody signed in
  let cursor = (await db.get("meta", CURSOR_KEY)) as string | undefined;
  let full = !cursor;
  let restarted = false;
  const seen = new Set<string>();
  // A full sync replaces only the rows the copy had when it began: a row another tab's replay
  // writes meanwhile may predate the feed's final cursor, and would never come back.
  let before = full ? new Set(await db.getAllKeys("memories")) : new Set<string>();
  const result: PullResult = { changed: 0, deleted: 0, full };
  for (let pages = 0; pages < MAX_PAGES; pages++) {
    let page: ChangesPage;
    try {
      page = await api.memoryChanges(cursor ?? null, signal);
    } catch (error) {
      if (error instanceof ApiError && error.status === 410 && !restarted) {
        restarted = true;
        cursor = undefined;
        full = true;
        result.full = true;
        seen.clear();
        before = new Set(await db.getAllKeys("memories"));
        await db.delete("meta", CURSOR_KEY);
        continue;
      }
      throw error;
    }
    const tx = db.transaction(["memories", "meta"], "readwrite");
    if ((await tx.objectStore("meta").get(SESSION_KEY)) !== session) {
      await tx.done;
      return result; // this page is another session's business now
    }
    const memories = tx.objectStore("memories");
    const work: Promise<unknown>[] = [tx.done];
    for (const memory of page.changes) {
      seen.add(memory.id);
      work.push(upsertCopyRow(memories, memory));
    }
    for (const id of page.deleted) {
      seen.delete(id);
      work.push(memories.delete(id));
    }
    work.push(tx.objectStore("meta").put(page.cursor, CURSOR_KEY));
    try {
      await Promise.all(work);
    } catch (error) {
      for (const promise of work) promise.catch(() => undefined);
      throw error;
    }
    result.changed += page.changes.length;
    result.deleted += page.deleted.length;
    cursor = page.cursor;
    if (!page.more) break;
  }
  if (full) result.deleted += await sweep(before, seen);
  await db.put("meta", new Date().toISOString(), LAST_SYNC_KEY);
  emit({ type: "copy" });
  return result;
}

/** After a full sync: rows the copy had before it that the server no longer sent are gone there. */
async function sweep(before: ReadonlySet<string>, seen: ReadonlySet<string>): Promise<number> {
  const db = await offlineDb();
  const tx = db.transaction("memories", "readwrite");
  let removed = 0;
  const deletes: Promise<unknown>[] = [tx.done];
  tx.done.catch(() => undefined);
  for (const id of await tx.store.getAllKeys()) {
    if (before.has(id) && !seen.has(id)) {
      deletes.push(tx.store.delete(id));
      removed++;
    }
  }
  await Promise.all(deletes);
  return removed;
}

/** When the copy was last brought up to date (ISO), or null. */
export async function lastSyncAt(): Promise<string | null> {
  const value = await (await offlineDb()).get("meta", LAST_SYNC_KEY);
  return typeof value === "string" ? value : null;
}

/** A memory as the screens show it: the copy's row with the user's queued saves on top;
 * `pending` is the state of the save not yet on the server (null: none). */
export type OfflineMemory = Memory & {
  pending: QueueState | null;
  /** The queued save behind `pending` (the one that needs attention, when one does): its key,
   * operation and the server's reason, for "Fix" and "Discard". */
  pendingEntry?: { key: string; operation: QueueEntry["operation"]; error: string | null } | null;
};

function pendingRow(id: string, fields: QueuedCreate, createdAt: string): Memory {
  return {
    id,
    kind: fields.kind ?? "note",
    title: fields.title ?? "",
    content: fields.content,
    url: fields.url ?? "",
    tags: fields.tags ?? [],
    category: "",
    summary: "",
    version: 0,
    enrichment_status: "pending",
    duplicate_of: null,
    created_at: createdAt,
    updated_at: createdAt,
  };
}

const WEIGHT: Record<QueueState, number> = { waiting: 1, syncing: 2, needs_attention: 3 };

/** A memory with several queued saves shows the one that matters most to the user. */
function strongest(a: QueueState | null, b: QueueState): QueueState {
  return a !== null && WEIGHT[a] > WEIGHT[b] ? a : b;
}

function describe(entry: QueueEntry): NonNullable<OfflineMemory["pendingEntry"]> {
  return { key: entry.key, operation: entry.operation, error: entry.last_error };
}

/** `row` with one queued save applied (undefined: deleted, or not there). */
function overlay(row: OfflineMemory | undefined, entry: QueueEntry): OfflineMemory | undefined {
  switch (entry.operation) {
    case "create":
      return {
        ...pendingRow(entry.memoryId, entry.payload as QueuedCreate, entry.created_at),
        pending: entry.state,
        pendingEntry: describe(entry),
      };
    case "update": {
      if (!row) return row;
      const pending = strongest(row.pending, entry.state);
      const pendingEntry = pending === entry.state ? describe(entry) : row.pendingEntry;
      return { ...row, ...(entry.payload as MemoryChanges), pending, pendingEntry };
    }
    case "delete":
      // A delete the server refused leaves the memory, flagged.
      return entry.state === "needs_attention" && row ? { ...row, pending: entry.state, pendingEntry: describe(entry) } : undefined;
  }
}

/** Every memory for the list, newest first (by when it was saved), queued creates, edits and
 * deletes applied. */
export async function readCopy(): Promise<OfflineMemory[]> {
  const rows = await (await offlineDb()).getAll("memories");
  const byId = new Map<string, OfflineMemory>(rows.map((row) => [row.id, { ...row, pending: null }]));
  for (const entry of await listEntries()) {
    const next = overlay(byId.get(entry.memoryId), entry);
    if (next) byId.set(entry.memoryId, next);
    else byId.delete(entry.memoryId);
  }
  return [...byId.values()].sort(
    (a, b) => Date.parse(b.created_at) - Date.parse(a.created_at) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0),
  );
}

/** Puts one memory the server answered into the copy (a restore, a memory opened online),
 * unless the copy has a newer state of it. */
export async function putInCopy(memory: Memory): Promise<void> {
  try {
    const db = await offlineDb();
    const tx = db.transaction("memories", "readwrite");
    await Promise.all([upsertCopyRow(tx.store, memory), tx.done]);
  } catch {
    // No room: the next pull brings it.
    return;
  }
  emit({ type: "copy" });
}

/** Whether the copy has been filled by a full sync at least once (the list can come from it). */
export async function copyIsComplete(): Promise<boolean> {
  try {
    return (await (await offlineDb()).get("meta", LAST_SYNC_KEY)) !== undefined;
  } catch {
    return false;
  }
}

/** One memory from the copy (with its queued saves on top), or null. */
export async function getFromCopy(id: string): Promise<OfflineMemory | null> {
  const row = await (await offlineDb()).get("memories", id);
  let memory: OfflineMemory | undefined = row && { ...row, pending: null };
  for (const entry of await listEntries()) {
    if (entry.memoryId === id) memory = overlay(memory, entry);
  }
  return memory ?? null;
}
