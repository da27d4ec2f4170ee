// The device's one IndexedDB database (PWA.md "Behaviour"). Why one database: the save queue
// and the copy of memories must change together (a create that reached the server leaves the
// queue and enters the copy in one transaction), and a transaction cannot span databases.
// The schema is versioned so a later release can add stores or indexes in `upgrade` without
// losing a queued save; never delete or rename a store in an upgrade.
import {
  openDB,
  type DBSchema,
  type IDBPDatabase,
  type IDBPObjectStore,
  type IDBPTransaction,
  type StoreNames,
} from "idb";
import type { Memory, MemoryChanges, QueuedCreate } from "../api/client";
import type { Editable } from "../lib/merge";

export const DB_NAME = "memory-connector";
/** The `meta` key of the account whose stores these are (offline/account.ts). */
export const OWNER_KEY = "owner";
/** The `meta` key of the signed-in session on this device: a new value at each start and
 * sign-in (offline/account.ts), none once signed out. A pull writes only while it is the one
 * the pull began in, so a pull still running at sign-out cannot bring the copy back. */
export const SESSION_KEY = "session";
export const DB_VERSION = 3;

export type QueueOperation = "create" | "update" | "delete";
export type QueueState = "waiting" | "syncing" | "needs_attention";

/** What an entry sends: the create's fields, the edit's changed fields, or nothing (delete). */
export type QueuePayload = QueuedCreate | MemoryChanges | Record<string, never>;

/** One save waiting for the server. `key` is the Idempotency-Key, made once when the user
 * pressed Save: every send of this entry carries it (or, after a silent merge, a key derived
 * from it), so the server runs the change at most once. */
export interface QueueEntry {
  key: string;
  /** FIFO order across tabs. */
  seq: number;
  operation: QueueOperation;
  /** The memory's id; "local:<key>" for a create not sent yet (and its later edits/deletes). */
  memoryId: string;
  payload: QueuePayload;
  /** When Save was pressed (ISO). */
  created_at: string;
  /** update: the version the edit started from (If-Match); null until a local create is sent. */
  base_version: number | null;
  /** update: the memory's editable fields as the edit started from them, for the 412 merge. */
  base: Editable | null;
  attempts: number;
  last_error: string | null;
  state: QueueState;
  /** Epoch ms before which the replay leaves this entry (and so everything after it) alone. */
  next_attempt_at: number;
  /** Epoch ms when a replay claimed it ("syncing"); a claim this old is a crashed tab's. */
  claimed_at: number | null;
  /** How often the body was changed after the server answered it finally (a silent merge after
   * a 412, the user's fix): each revision is sent with its own key, `${key}:r${revision}`, since
   * the server would answer the old key with a new body 422; a retry of the same revision
   * reuses its key. */
  revision: number;
  /** update in needs_attention after a real conflict: the server's copy to decide against. */
  conflict: Memory | null;
}

export interface Draft {
  id: string;
  fields: DraftFields;
  /** Epoch ms. */
  saved_at: number;
}

/** The form's fields as typed (tags as the text box holds them). */
export interface DraftFields {
  content?: string;
  title?: string;
  url?: string;
  tags?: string;
  kind?: string;
  remind_at?: string;
}

export interface OfflineSchema extends DBSchema {
  queue: { key: string; value: QueueEntry; indexes: { seq: number; memoryId: string } };
  memories: { key: string; value: Memory; indexes: { created_at: string } };
  meta: { key: string; value: unknown };
  drafts: { key: string; value: Draft };
  /** Saves another account left unsent on this device, by that account's id, until it signs
   * in here again (offline/account.ts). */
  parked: { key: string; value: QueueEntry[] };
}

export type OfflineDb = IDBPDatabase<OfflineSchema>;

let opening: Promise<OfflineDb> | null = null;

/** The database, opened once per page (or worker). */
export function offlineDb(): Promise<OfflineDb> {
  if (!opening) {
    opening = openDB<OfflineSchema>(DB_NAME, DB_VERSION, {
      upgrade: upgradeSchema,
      blocking: letNewerVersionUpgrade,
    }).catch((error: unknown) => {
      // A newer release in another tab upgraded the database: stores are only ever added
      // (upgradeSchema), so this page's code works on it as it is. Open whatever version is there
      // rather than hold every save in memory until this tab is reloaded.
      if (!(error instanceof DOMException && error.name === "VersionError")) throw error;
      return openDB<OfflineSchema>(DB_NAME, undefined, { blocking: letNewerVersionUpgrade });
    });
    opening.catch(() => {
      opening = null;
    });
  }
  return opening;
}

/** A newer version of the app wants to upgrade: let it, and open again when next asked. */
function letNewerVersionUpgrade(): void {
  void closeOfflineDb();
}

/** The schema, version by version. Stores and indexes are only ever added, never deleted or
 * renamed: a page of an older release can keep using a database a newer one upgraded. */
function upgradeSchema(
  db: IDBPDatabase<OfflineSchema>,
  oldVersion: number,
  _newVersion: number | null,
  tx: IDBPTransaction<OfflineSchema, ArrayLike<StoreNames<OfflineSchema>>, "versionchange">,
): void {
  if (oldVersion < 1) {
    const queue = db.createObjectStore("queue", { keyPath: "key" });
    queue.createIndex("seq", "seq", { unique: true });
    const memories = db.createObjectStore("memories", { keyPath: "id" });
    memories.createIndex("created_at", "created_at");
    db.createObjectStore("meta");
    db.createObjectStore("drafts", { keyPath: "id" });
  }
  if (oldVersion < 2) {
    // A sent create rebases the later saves of its memory: found by index, not by reading the
    // whole queue (500 queued saves cost 9 ms each that way).
    tx.objectStore("queue").createIndex("memoryId", "memoryId");
  }
  if (oldVersion < 3) db.createObjectStore("parked");
}

/** Adds `entries` to the saves parked for `account` (offline/account.ts), after those already
 * there, within the caller's transaction. */
export async function parkEntries(
  parked: IDBPObjectStore<OfflineSchema, ArrayLike<StoreNames<OfflineSchema>>, "parked", "readwrite">,
  account: string,
  entries: QueueEntry[],
): Promise<void> {
  await parked.put([...((await parked.get(account)) ?? []), ...entries], account);
}

/** Closes the database; the next `offlineDb()` opens it again (tests, version upgrades). */
export async function closeOfflineDb(): Promise<void> {
  const current = opening;
  opening = null;
  if (current) {
    try {
      (await current).close();
    } catch {
      // It never opened: nothing to close.
    }
  }
}

/** Writes `incoming` into the copy unless the copy already has a newer state of it (a higher
 * version; enrichment bumps only `updated_at`, so a tie goes to the later `updated_at`). */
export async function upsertCopyRow(
  store: { get(id: string): Promise<Memory | undefined>; put(value: Memory): Promise<unknown> },
  incoming: Memory,
): Promise<void> {
  const existing = await store.get(incoming.id);
  if (existing && isNewer(existing, incoming)) return;
  await store.put(incoming);
}

function isNewer(a: Memory, b: Memory): boolean {
  if (a.version !== b.version) return a.version > b.version;
  return Date.parse(a.updated_at) > Date.parse(b.updated_at);
}

function errorName(value: unknown): string | null {
  if (typeof value !== "object" || value === null) return null;
  const name = (value as { name?: unknown }).name;
  return typeof name === "string" ? name : null;
}

/** Whether a failed write means the origin's storage is full: a QuotaExceededError, also when
 * it arrives as the transaction's abort (the request or `tx.done` rejecting with an AbortError
 * while the transaction's `error` is the QuotaExceededError). */
export function isQuotaError(error: unknown, transactionError?: unknown): boolean {
  const names = [
    errorName(error),
    errorName(transactionError),
    errorName((error as { error?: unknown } | null)?.error),
    errorName((error as { cause?: unknown } | null)?.cause),
  ];
  if (names.includes("QuotaExceededError")) return true;
  // Old Safari and Firefox name it by its legacy code (22) or their own name.
  const code = (error as { code?: unknown } | null)?.code;
  return code === 22 || names.includes("NS_ERROR_DOM_QUOTA_REACHED");
}
