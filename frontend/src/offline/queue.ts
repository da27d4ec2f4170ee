// The save queue (PWA.md "Capture never fails"). A save is written here before anything is
// sent, with its Idempotency-Key made once, at Save; the replay (sync.ts) sends entries in
// order and the key makes any resend harmless. Why an in-memory fallback: when the origin's
// quota is full, IndexedDB refuses the write (a QuotaExceededError, or the transaction aborting
// with one), and the save must still not be lost while the page lives. Such entries sit in
// `held`, are listed, counted and replayed exactly like stored ones (a held copy of an entry
// wins over its stored copy), a "storage-full" notice lets the UI say so, and every later
// write tries to move them into IndexedDB. Only this module and sync.ts change the queue.
import { actingAccount, type Memory, type MemoryChanges, type QueuedCreate } from "../api/client";
import { editableOf, type Editable } from "../lib/merge";
import type { IDBPTransaction } from "idb";
import {
  OWNER_KEY,
  isQuotaError,
  offlineDb,
  parkEntries,
  upsertCopyRow,
  type OfflineSchema,
  type QueueEntry,
  type QueueOperation,
  type QueuePayload,
  type QueueState,
} from "./db";
import { emit } from "./events";

/** A "syncing" claim older than this belongs to a tab that died mid-send: it may be sent again
 * (with the same key, so the server answers it once). */
export const STALE_CLAIM_MS = 2 * 60 * 1000;

export const LOCAL_PREFIX = "local:";

/** The id a create has on the device until the server gives it one. */
export function localId(key: string): string {
  return `${LOCAL_PREFIX}${key}`;
}

export function isLocalId(id: string): boolean {
  return id.startsWith(LOCAL_PREFIX);
}

/** The Idempotency-Key this revision of the entry is sent with. */
export function sendKey(entry: Pick<QueueEntry, "key" | "revision">): string {
  return entry.revision === 0 ? entry.key : `${entry.key}:r${entry.revision}`;
}

const held = new Map<string, QueueEntry>();
let lastSeq = 0;

function clone(entry: QueueEntry): QueueEntry {
  return structuredClone(entry);
}

function storageFull(): void {
  emit({ type: "storage-full" });
}

/** Whether some saves are kept only in this page's memory (storage is full). */
export function hasHeldEntries(): boolean {
  return held.size > 0;
}

/** Writes `entries` in one transaction; false when storage refused them for lack of space (or
 * IndexedDB cannot be opened at all); other errors are thrown. */
async function putEntries(entries: QueueEntry[]): Promise<boolean> {
  let db;
  try {
    db = await offlineDb();
  } catch {
    return false;
  }
  const tx = db.transaction(["queue", "meta", "parked"], "readwrite");
  const pending: Promise<unknown>[] = [tx.done];
  try {
    await queueOrPark(tx, entries, pending);
    await Promise.all(pending);
    return true;
  } catch (error) {
    for (const promise of pending) promise.catch(() => undefined);
    const transactionError = tx.error;
    try {
      tx.abort();
    } catch {
      // Already finished or aborted.
    }
    if (isQuotaError(error, transactionError)) return false;
    throw error;
  }
}

type SaveTransaction = IDBPTransaction<OfflineSchema, ("queue" | "meta" | "parked")[], "readwrite">;

/** Puts new `entries` in the queue, or, when this page acts for an account the device's stores
 * are no longer (another tab signed in as someone else), parks them for that account's next
 * sign-in here: they are never sent with the other one's session. Requests go in `pending`. */
async function queueOrPark(tx: SaveTransaction, entries: QueueEntry[], pending: Promise<unknown>[]): Promise<void> {
  const acting = actingAccount();
  const owner = acting === null ? undefined : await tx.objectStore("meta").get(OWNER_KEY);
  if (acting !== null && owner !== undefined && owner !== acting) {
    pending.push(parkEntries(tx.objectStore("parked"), acting, entries));
    return;
  }
  const queue = tx.objectStore("queue");
  for (const entry of entries) pending.push(queue.put(entry));
}

/** Moves the entries kept in memory into IndexedDB, if it has room again; true when none is left. */
export async function flushHeldEntries(): Promise<boolean> {
  if (held.size === 0) return true;
  const entries = [...held.values()];
  if (!(await putEntries(entries))) return false;
  for (const entry of entries) {
    if (held.get(entry.key) === entry) held.delete(entry.key);
  }
  return held.size === 0;
}

async function storedEntries(): Promise<QueueEntry[]> {
  try {
    const db = await offlineDb();
    return await db.getAllFromIndex("queue", "seq");
  } catch {
    return [];
  }
}

/** Every entry, oldest first (the order they are sent in). */
export async function listEntries(): Promise<QueueEntry[]> {
  const byKey = new Map<string, QueueEntry>();
  for (const entry of await storedEntries()) byKey.set(entry.key, entry);
  for (const entry of held.values()) byKey.set(entry.key, clone(entry));
  const entries = [...byKey.values()].sort((a, b) => a.seq - b.seq);
  lastSeq = Math.max(lastSeq, entries.at(-1)?.seq ?? 0);
  return entries;
}

/** One entry, or undefined. */
export async function getEntry(key: string): Promise<QueueEntry | undefined> {
  const inMemory = held.get(key);
  if (inMemory) return clone(inMemory);
  try {
    return await (await offlineDb()).get("queue", key);
  } catch {
    return undefined;
  }
}

/** How many saves have not reached the server (in any state): "N waiting to sync". */
export async function pendingCount(): Promise<number> {
  let stored: string[] = [];
  try {
    stored = await (await offlineDb()).getAllKeys("queue");
  } catch {
    stored = [];
  }
  const keys = new Set<string>(stored);
  for (const key of held.keys()) keys.add(key);
  return keys.size;
}

export interface EnqueueInput {
  operation: QueueOperation;
  /** update/delete: the memory's id (a "local:" id for a create not sent yet). */
  memoryId?: string;
  payload?: QueuePayload;
  /** update: the version the edit started from. */
  baseVersion?: number | null;
  /** update: the fields as the edit started from them. */
  base?: Editable | null;
  /** Epoch ms of the Save press (defaults to now). */
  savedAt?: number;
}

/** Writes a save into the queue, with its Idempotency-Key made now and never again. It never
 * fails for lack of space: the entry is then kept in memory (see above). */
export async function enqueue(input: EnqueueInput): Promise<QueueEntry> {
  const key = crypto.randomUUID();
  const savedAt = input.savedAt ?? Date.now();
  if (input.operation !== "create" && !input.memoryId) throw new Error(`${input.operation} needs a memoryId`);
  const entry: QueueEntry = {
    key,
    seq: 0,
    operation: input.operation,
    memoryId: input.operation === "create" ? localId(key) : (input.memoryId as string),
    payload: input.payload ?? {},
    created_at: new Date(savedAt).toISOString(),
    base_version: input.baseVersion ?? null,
    base: input.base ?? null,
    attempts: 0,
    last_error: null,
    state: "waiting",
    next_attempt_at: 0,
    claimed_at: null,
    revision: 0,
    conflict: null,
  };
  await flushHeldEntries();
  if (!(await storeNew(entry))) {
    held.set(entry.key, entry);
    storageFull();
  }
  emit({ type: "queue" });
  emit({ type: "enqueued" });
  return clone(entry);
}

function heldSeq(): number {
  let max = 0;
  for (const entry of held.values()) max = Math.max(max, entry.seq);
  return max;
}

/** Stores a new entry with the next seq, read and written in one transaction so two tabs saving
 * at once get different places in the order; false (with a seq set) when storage is full. */
async function storeNew(entry: QueueEntry): Promise<boolean> {
  entry.seq = Math.max(lastSeq, heldSeq()) + 1;
  let db;
  try {
    db = await offlineDb();
  } catch {
    lastSeq = entry.seq;
    return false;
  }
  const tx = db.transaction(["queue", "meta", "parked"], "readwrite");
  const queue = tx.objectStore("queue");
  const pending: Promise<unknown>[] = [tx.done];
  try {
    const last = await queue.index("seq").openCursor(null, "prev");
    entry.seq = Math.max(entry.seq, (last?.value.seq ?? 0) + 1);
    lastSeq = entry.seq;
    await queueOrPark(tx, [entry], pending);
    await Promise.all(pending);
    return true;
  } catch (error) {
    for (const promise of pending) promise.catch(() => undefined);
    const transactionError = tx.error;
    try {
      tx.abort();
    } catch {
      // Already finished or aborted.
    }
    lastSeq = Math.max(lastSeq, entry.seq);
    if (isQuotaError(error, transactionError)) return false;
    throw error;
  }
}

/** A new memory: `fields` as the capture form has them; the save's time is now. */
export function enqueueCreate(fields: QueuedCreate, savedAt?: number): Promise<QueueEntry> {
  return enqueue({ operation: "create", payload: { ...fields }, savedAt });
}

/** An edit of `base` (the memory as the edit began; a device-only memory has version 0). */
export function enqueueUpdate(base: Memory, changes: MemoryChanges, savedAt?: number): Promise<QueueEntry> {
  return enqueue({
    operation: "update",
    memoryId: base.id,
    payload: { ...changes },
    baseVersion: isLocalId(base.id) ? null : base.version,
    base: editableOf(base),
    savedAt,
  });
}

export function enqueueDelete(memoryId: string, savedAt?: number): Promise<QueueEntry> {
  return enqueue({ operation: "delete", memoryId, savedAt });
}

/** Changes one entry with `change` (return null to leave it as it is): in one transaction for a
 * stored entry, so two tabs cannot both act on what they read. Returns the entry as it ends up
 * (undefined when there is none). */
export async function updateEntry(
  key: string,
  change: (entry: QueueEntry) => QueueEntry | null,
): Promise<QueueEntry | undefined> {
  const inMemory = held.get(key);
  if (inMemory) {
    const next = change(clone(inMemory));
    if (!next) return clone(inMemory);
    held.set(key, next);
    await flushHeldEntries();
    emit({ type: "queue" });
    return clone(next);
  }
  let db;
  try {
    db = await offlineDb();
  } catch {
    return undefined;
  }
  const tx = db.transaction("queue", "readwrite");
  const current = await tx.store.get(key);
  if (!current) {
    await tx.done.catch(() => undefined);
    return undefined;
  }
  const next = change(clone(current));
  if (!next) {
    await tx.done.catch(() => undefined);
    return current;
  }
  const pending: Promise<unknown>[] = [tx.done];
  try {
    pending.push(tx.store.put(next));
    await Promise.all(pending);
  } catch (error) {
    for (const promise of pending) promise.catch(() => undefined);
    const transactionError = tx.error;
    try {
      tx.abort();
    } catch {
      // Already finished or aborted.
    }
    if (!isQuotaError(error, transactionError)) throw error;
    held.set(key, next);
    storageFull();
  }
  emit({ type: "queue" });
  return clone(next);
}

/** Sets some fields of an entry (the replay's outcomes). */
export function markEntry(key: string, fields: Partial<Omit<QueueEntry, "key" | "seq">>): Promise<QueueEntry | undefined> {
  return updateEntry(key, (entry) => ({ ...entry, ...fields }));
}

export type Claim = { kind: "claimed"; entry: QueueEntry } | { kind: "gone" } | { kind: "taken"; entry: QueueEntry };

/** Sets the entry "syncing" if it is "waiting" (or a dead tab's stale claim), in one
 * transaction: whoever set it sends it, and nobody else does. `orphaned`: the caller holds the
 * replay's Web Lock, which every replay holds while it sends and a closed tab lets go of, so a
 * "syncing" entry is a dead tab's at once (sent again with its key: the server runs it once). */
export async function claimEntry(key: string, now: number, orphaned = false): Promise<Claim> {
  let claimed = false;
  const entry = await updateEntry(key, (current) => {
    const stale =
      current.state === "syncing" && (orphaned || (current.claimed_at ?? 0) <= now - STALE_CLAIM_MS);
    if (current.state !== "waiting" && !stale) return null;
    claimed = true;
    return { ...current, state: "syncing", claimed_at: now };
  });
  if (!entry) return { kind: "gone" };
  return claimed ? { kind: "claimed", entry } : { kind: "taken", entry };
}

/** Takes entries out of the queue (sent, or discarded). */
export async function removeEntries(keys: readonly string[]): Promise<void> {
  for (const key of keys) held.delete(key);
  try {
    const db = await offlineDb();
    const tx = db.transaction("queue", "readwrite");
    await Promise.all([...keys.map((key) => tx.store.delete(key)), tx.done]);
  } catch {
    // Deleting frees space; an unopenable database has nothing to delete.
  }
  emit({ type: "queue" });
}

/** Takes back a save that no replay has claimed yet ("Undo" of a delete still on the device):
 * checked and deleted in one transaction, so it is either withdrawn here or sent, never both.
 * True when it was withdrawn. */
export async function withdrawEntry(key: string): Promise<boolean> {
  const inMemory = held.get(key);
  if (inMemory) {
    if (inMemory.state !== "waiting") return false;
    held.delete(key);
    emit({ type: "queue" });
    return true;
  }
  let withdrawn = false;
  try {
    const db = await offlineDb();
    const tx = db.transaction("queue", "readwrite");
    const current = await tx.store.get(key);
    if (current && current.state === "waiting") {
      await tx.store.delete(key);
      withdrawn = true;
    }
    await tx.done;
  } catch {
    withdrawn = false;
  }
  if (withdrawn) emit({ type: "queue" });
  return withdrawn;
}

export function removeEntry(key: string): Promise<void> {
  return removeEntries([key]);
}

/** The user's fix of an entry that needs attention: its new payload, sent again from the start
 * of the backoff. After an edit conflict the fix is the user's choice on top of the server's
 * copy, so the edit is rebased onto that copy. */
export async function fix(key: string, payload: QueuePayload): Promise<QueueEntry | undefined> {
  return updateEntry(key, (entry) => {
    if (entry.state !== "needs_attention") return null;
    const rebased = entry.conflict
      ? { base: editableOf(entry.conflict), base_version: entry.conflict.version }
      : {};
    return {
      ...entry,
      ...rebased,
      payload: { ...payload },
      state: "waiting",
      attempts: 0,
      last_error: null,
      next_attempt_at: 0,
      claimed_at: null,
      conflict: null,
      revision: entry.revision + 1,
    };
  });
}

/** Drops an entry that needs attention (and, for a create, the edits and delete queued after it
 * for the same memory, which can never be sent). After a conflict the server's copy goes into
 * the device's copy: it is what the user now sees. */
export async function discard(key: string): Promise<void> {
  const entry = await getEntry(key);
  if (!entry) return;
  const keys = [key];
  if (entry.operation === "create") {
    for (const other of await listEntries()) {
      if (other.key !== key && other.memoryId === entry.memoryId) keys.push(other.key);
    }
  }
  await removeEntries(keys);
  try {
    const db = await offlineDb();
    if (entry.operation === "create") await db.delete("memories", entry.memoryId);
    if (entry.conflict) await upsertCopyRow(db.transaction("memories", "readwrite").store, entry.conflict);
  } catch {
    // The copy catches up on the next pull.
  }
  emit({ type: "copy" });
}

export interface Settled {
  /** The server's memory after the change (null: the memory is gone, a delete). */
  memory: Memory | null;
}

/** An entry reached the server: out of the queue and into the copy in one transaction. A create
 * replaces its "local:" row, and the edits and delete queued after it for the same memory now
 * name the server's id and version (the alias is kept too, for a save a screen queues with the
 * old id a moment later). */
export async function settleEntry(entry: QueueEntry, { memory }: Settled): Promise<void> {
  const rebase = (other: QueueEntry): QueueEntry =>
    memory && other.memoryId === entry.memoryId && other.key !== entry.key
      ? {
          ...other,
          memoryId: memory.id,
          base_version: other.base_version ?? memory.version,
          base: other.base ?? editableOf(memory),
        }
      : other;
  const wasHeld = held.delete(entry.key);
  for (const [key, other] of held) held.set(key, rebase(other));
  try {
    const db = await offlineDb();
    const tx = db.transaction(["queue", "memories", "meta", "parked"], "readwrite");
    const queue = tx.objectStore("queue");
    const memories = tx.objectStore("memories");
    // Every request is watched from the start: an abort rejects them all, maybe mid-way.
    const work: Promise<unknown>[] = [];
    const watch = <T>(promise: Promise<T>): Promise<T> => {
      promise.catch(() => undefined);
      work.push(promise);
      return promise;
    };
    watch(tx.done);
    if (!wasHeld && (await watch(queue.get(entry.key))) === undefined) {
      // It left the queue while it was being sent: parked with its account when another signed
      // in (the copy is that one's now; it must not be sent again when that account is back),
      // or settled by another tab. The next pull has it.
      const parked = tx.objectStore("parked");
      for (const account of await watch(parked.getAllKeys())) {
        const list = (await watch(parked.get(account))) ?? [];
        const rest = list.filter((other) => other.key !== entry.key);
        if (rest.length < list.length) watch<unknown>(rest.length ? parked.put(rest, account) : parked.delete(account));
      }
      await Promise.all(work);
      return;
    }
    watch(queue.delete(entry.key));
    if (entry.operation === "create" && memory) {
      watch(memories.delete(entry.memoryId));
      watch(tx.objectStore("meta").put(memory.id, `alias:${entry.memoryId}`));
      const others = queue.index("memoryId").getAll(entry.memoryId);
      watch(others);
      for (const other of await others) {
        if (other.key !== entry.key) watch(queue.put(rebase(other)));
      }
    }
    watch(memory ? upsertCopyRow(memories, memory) : memories.delete(entry.memoryId));
    await Promise.all(work);
  } catch {
    // No room for the copy's row: the queue entry must still go (the server has it), and the
    // copy gets the row on the next pull.
    await removeEntries([entry.key]);
    if (entry.operation === "create" && memory) {
      for (const other of await listEntries()) {
        if (other.memoryId === entry.memoryId) await updateEntry(other.key, rebase);
      }
    }
  }
  emit({ type: "queue" });
  emit({ type: "copy" });
}

/** The server id a "local:" id became once its create was sent, or null. */
export async function resolveLocalId(id: string): Promise<string | null> {
  try {
    const alias = await (await offlineDb()).get("meta", `alias:${id}`);
    return typeof alias === "string" ? alias : null;
  } catch {
    return null;
  }
}

/** The entries this page keeps in memory (the disk was full), oldest first. */
export function heldEntries(): QueueEntry[] {
  return [...held.values()].sort((a, b) => a.seq - b.seq).map(clone);
}

/** Forgets the entries kept in memory (tests; signing out). */
export function forgetHeldEntries(): void {
  held.clear();
  lastSeq = 0;
}

export type { QueueEntry, QueueState };
