// The replay of the save queue (PWA.md "Behaviour"). Why it is shaped this way:
// - One entry at a time, oldest first: an edit must reach the server after the create it edits,
//   and a delete after both. When an entry has to wait (no network, 5xx, 429, the server still
//   running the same key), the whole run stops, so nothing overtakes it.
// - One tab at a time (a Web Lock); and each entry is claimed ("waiting" → "syncing") in a
//   transaction before it is sent, so where Web Locks are missing two tabs still never send one
//   entry twice. A dead tab's claim is taken over at once by the holder of the lock (a closed
//   tab lets go of it), else once stale, and the entry is sent again with the same key, which
//   the server answers without running it again.
// - A 4xx the user must act on parks that entry ("needs attention") and the run goes on with
//   the entries that do not depend on it (another memory's saves).
// - No DOM or React in `replay`: the api calls and the clock are passed in, so the service
//   worker's Background Sync can run the same code. `startSync` is the page's wiring.
import { api as defaultApi, ApiError, conflictCopy, type Memory, type MemoryChanges, type MemorySave, type QueuedCreate } from "../api/client";
import { editableOf, threeWayMerge, type Editable } from "../lib/merge";
import { pullChanges, type ChangesApi } from "./copy";
import type { QueueEntry } from "./db";
import { emit, subscribe } from "./events";
import {
  claimEntry,
  flushHeldEntries,
  isLocalId,
  listEntries,
  markEntry,
  resolveLocalId,
  sendKey,
  settleEntry,
  updateEntry,
} from "./queue";

export const SYNC_LOCK = "memory-connector-sync";
export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_MIN_MS = 500;
export const BACKOFF_CAP_MS = 5 * 60 * 1000;
/** As lib/editMemory.ts: a memory edited without pause elsewhere must not keep this one spinning. */
export const SILENT_MERGES = 3;

/** The calls the replay makes (client.ts's `api`; a worker passes its own, over its fetch). */
export interface SyncApi {
  createMemory(memory: QueuedCreate, idempotencyKey: string): Promise<MemorySave>;
  updateMemory(id: string, changes: MemoryChanges, baseVersion: number, idempotencyKey: string): Promise<Memory>;
  deleteMemory(id: string, idempotencyKey: string): Promise<null>;
}

/** The part of the Web Locks API the replay uses. */
export interface Locks {
  request<T>(name: string, options: { ifAvailable: boolean }, callback: (lock: unknown) => Promise<T>): Promise<T>;
}

export interface ReplayOptions {
  api?: SyncApi;
  /** Epoch ms. */
  now?: () => number;
  /** In [0, 1): the jitter. */
  random?: () => number;
  /** "Sync now": send even an entry whose backoff has not run out. */
  force?: boolean;
  /** Web Locks; null to go without (then the per-entry claim alone keeps sends single). */
  locks?: Locks | null;
  /** False once the session that asked for this run has ended: the run sends nothing more. */
  stillWanted?: () => boolean;
}

export interface ReplayResult {
  /** done: nothing left to send now; waiting: an entry backs off until `retryAt`; busy: another
   * tab (or run) is replaying; signed-out: the server answered 401, or the session that asked
   * for the run has ended. */
  status: "done" | "waiting" | "busy" | "signed-out";
  sent: number;
  retryAt: number | null;
}

/** The wait before the next try: the server's Retry-After when it gave one, else exponential
 * with full jitter; never above 5 minutes, so a save waits for nothing longer than that. */
export function backoffDelay(attempts: number, retryAfterSeconds: number | null, random: () => number): number {
  if (retryAfterSeconds !== null) return Math.min(BACKOFF_CAP_MS, Math.max(0, retryAfterSeconds * 1000));
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1));
  return Math.max(BACKOFF_MIN_MS, Math.floor(random() * ceiling));
}

type Outcome =
  | { kind: "sent"; memory: Memory | null; duplicate?: boolean }
  | { kind: "retry"; error: string; retryAfter: number | null }
  | { kind: "attention"; error: string; conflict?: Memory }
  | { kind: "signed-out" };

function defaultLocks(): Locks | null {
  const nav = (globalThis as { navigator?: { locks?: Locks } }).navigator;
  return nav?.locks ?? null;
}

/** Sends what the queue holds, in order, until it is empty or an entry must wait. */
export async function replay(options: ReplayOptions = {}): Promise<ReplayResult> {
  const locks = options.locks === undefined ? defaultLocks() : options.locks;
  if (!locks) return runQueue(options);
  const result = await locks.request(SYNC_LOCK, { ifAvailable: true }, async (lock) =>
    lock ? runQueue(options, true) : null,
  );
  return result ?? { status: "busy", sent: 0, retryAt: null };
}

/** `locked`: this run holds the Web Lock, so an entry left "syncing" is a closed tab's. */
async function runQueue(options: ReplayOptions, locked = false): Promise<ReplayResult> {
  const api = options.api ?? defaultApi;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  await flushHeldEntries();
  let sent = 0;
  // Repeat while a pass sent something: saves queued during a pass are sent in the next.
  for (;;) {
    const blocked = new Set<string>();
    let sentThisPass = 0;
    for (const listed of await listEntries()) {
      if (options.stillWanted && !options.stillWanted()) return { status: "signed-out", sent, retryAt: null };
      if (blocked.has(listed.memoryId)) continue;
      if (listed.state === "needs_attention") {
        blocked.add(listed.memoryId);
        continue;
      }
      if (!options.force && listed.next_attempt_at > now()) {
        return { status: "waiting", sent, retryAt: listed.next_attempt_at };
      }
      const claim = await claimEntry(listed.key, now(), locked);
      if (claim.kind === "gone") continue;
      if (claim.kind === "taken") {
        if (claim.entry.state === "needs_attention") {
          blocked.add(claim.entry.memoryId);
          continue;
        }
        return { status: "busy", sent, retryAt: null };
      }
      const entry = claim.entry;
      const outcome = await send(entry, api);
      if (outcome.kind === "sent") {
        await settleEntry(entry, { memory: outcome.memory });
        if (entry.operation === "create" && outcome.memory) {
          emit({ type: "created", key: entry.key, memory: outcome.memory, duplicate: outcome.duplicate === true });
        }
        sent++;
        sentThisPass++;
        continue;
      }
      if (outcome.kind === "signed-out") {
        await markEntry(entry.key, { state: "waiting", claimed_at: null });
        emit({ type: "signed-out" });
        return { status: "signed-out", sent, retryAt: null };
      }
      if (outcome.kind === "retry") {
        const attempts = entry.attempts + 1;
        const retryAt = now() + backoffDelay(attempts, outcome.retryAfter, random);
        await markEntry(entry.key, {
          state: "waiting",
          claimed_at: null,
          attempts,
          last_error: outcome.error,
          next_attempt_at: retryAt,
        });
        return { status: "waiting", sent, retryAt };
      }
      const parked = await markEntry(entry.key, {
        state: "needs_attention",
        claimed_at: null,
        attempts: entry.attempts + 1,
        last_error: outcome.error,
        conflict: outcome.conflict ?? null,
      });
      blocked.add(entry.memoryId);
      if (outcome.conflict && parked) emit({ type: "conflict", entry: parked, theirs: outcome.conflict });
    }
    if (sentThisPass === 0) return { status: "done", sent, retryAt: null };
  }
}

/** The memory id to send to: a "local:" id names the server's id once its create went. */
async function targetId(entry: QueueEntry): Promise<string | null> {
  if (!isLocalId(entry.memoryId)) return entry.memoryId;
  return resolveLocalId(entry.memoryId);
}

async function send(entry: QueueEntry, api: SyncApi): Promise<Outcome> {
  try {
    if (entry.operation === "create") {
      let body: QueuedCreate = { ...(entry.payload as QueuedCreate), created_at: entry.created_at };
      let saved: MemorySave;
      try {
        saved = await api.createMemory(body, sendKey(entry));
      } catch (error) {
        if (!refusesOnlyCreatedAt(error)) throw error;
        // The device's clock runs ahead of the server's (over its 5 minutes of slack): the save
        // is fine, its time is not. It goes stamped by the server instead; another body needs
        // a key of its own, derived so that a retry sends the same one.
        const { created_at: _late, ...untimed } = body;
        body = untimed;
        saved = await api.createMemory(body, `${sendKey(entry)}:untimed`);
      }
      return { kind: "sent", memory: savedMemory(saved, body), duplicate: saved.duplicate === true };
    }
    const id = await targetId(entry);
    if (!id) return { kind: "attention", error: "The memory this change belongs to was never saved." };
    if (entry.operation === "delete") {
      try {
        await api.deleteMemory(id, sendKey(entry));
      } catch (error) {
        // Already gone: what the user wanted.
        if (!(error instanceof ApiError && error.status === 404)) throw error;
      }
      return { kind: "sent", memory: null };
    }
    return await sendUpdate(entry, id, api);
  } catch (error) {
    return classify(error);
  }
}

/** An edit, with lib/merge.ts's silent merge on a 412 when only fields the user did not touch
 * changed on the server; a field changed on both sides parks the entry for the conflict dialog. */
async function sendUpdate(entry: QueueEntry, id: string, api: SyncApi): Promise<Outcome> {
  let current = entry;
  for (let round = 0; ; round++) {
    const changes = current.payload as MemoryChanges;
    if (Object.keys(changes).length === 0) return { kind: "sent", memory: null };
    try {
      const memory = await api.updateMemory(id, changes, current.base_version ?? 0, sendKey(current));
      return { kind: "sent", memory };
    } catch (error) {
      const theirs = conflictCopy(error);
      if (!theirs) throw error;
      const base: Editable = current.base ?? editableOf(theirs);
      const mine: Editable = { ...base, ...(changes as Partial<Editable>) };
      const result = threeWayMerge(base, mine, editableOf(theirs));
      if (result.conflicts.length > 0 || round + 1 >= SILENT_MERGES) {
        return { kind: "attention", error: "Changed elsewhere too: choose which version to keep.", conflict: theirs };
      }
      if (Object.keys(result.changes).length === 0) return { kind: "sent", memory: theirs };
      // The merge is a new body on top of the server's version: stored first, with its own key,
      // so a crash before the answer resends exactly this.
      const rebased = await updateEntry(current.key, (stored) => ({
        ...stored,
        payload: result.changes,
        base: editableOf(theirs),
        base_version: theirs.version,
        revision: stored.revision + 1,
      }));
      if (!rebased) return { kind: "sent", memory: null };
      current = rebased;
    }
  }
}

/** A create's answer as a row of the copy. A replay whose answer was too large to keep
 * (`answer_not_kept`) carries only the id: the row is built from what was sent, with version 0
 * so the next pull replaces it. */
function savedMemory(saved: MemorySave, sent: QueuedCreate): Memory {
  if (typeof saved.version === "number" && typeof saved.content === "string") {
    const { duplicate: _duplicate, ...memory } = saved;
    return memory;
  }
  const at = sent.created_at ?? new Date().toISOString();
  return {
    id: (saved as { id: string }).id,
    kind: sent.kind ?? "note",
    title: sent.title ?? "",
    content: sent.content,
    url: sent.url ?? "",
    tags: sent.tags ?? [],
    category: "",
    summary: "",
    version: 0,
    enrichment_status: "pending",
    duplicate_of: null,
    created_at: at,
    updated_at: at,
  };
}

function refusesOnlyCreatedAt(error: unknown): boolean {
  return error instanceof ApiError && error.status === 400 && Object.keys(error.fields).join() === "created_at";
}

function classify(error: unknown): Outcome {
  if (!(error instanceof ApiError)) {
    // An aborted fetch, or anything unforeseen: never drop the save; try again later.
    return { kind: "retry", error: error instanceof Error ? error.message : String(error), retryAfter: null };
  }
  if (error.status === 401) return { kind: "signed-out" };
  const transient =
    error.status === 0 ||
    error.status >= 500 ||
    error.status === 429 ||
    error.status === 408 ||
    (error.status === 409 && (error.code === "idempotency_key_in_use" || error.code === "save_conflict"));
  if (transient) return { kind: "retry", error: error.detail, retryAfter: error.retryAfter };
  return { kind: "attention", error: error.detail };
}

// ---- The page's wiring -------------------------------------------------------------------

let running: Promise<ReplayResult> | null = null;
let queued: Promise<ReplayResult> | null = null;
/** The replay's options, and the pull after it: the api to pull with, or false for none. */
export type SyncOptions = ReplayOptions & { pull?: ChangesApi | false };

let defaults: SyncOptions = {};
let retryTimer: ReturnType<typeof setTimeout> | null = null;
/** Whether `startSync` is wired: a backoff's timer is set only then, so a run that ends after
 * sign-out never wakes up later to send with whatever session the page has by then. */
let wired = false;
/** Bumped when the wiring is removed (sign-out): a run queued before it is not run after it. */
let generation = 0;

/** "Sync now": replays at once, even an entry whose backoff has not run out, then pulls. */
export function syncNow(options: SyncOptions = {}): Promise<ReplayResult> {
  return schedule({ force: true, ...options });
}

/** Replays (leaving a backoff to run out) and pulls: the periodic refresh of the copy. */
export function syncSoon(options: SyncOptions = {}): Promise<ReplayResult> {
  return schedule(options);
}

/** Replays, then (unless signed out) pulls the server's changes into the copy. This tab runs
 * one at a time: a call during a run gets one run after it, shared by every such call. */
function schedule(options: SyncOptions): Promise<ReplayResult> {
  const startedIn = generation;
  // A run of the wired session stops with it; an explicit call while unwired runs to its end.
  const stillWanted = wired ? () => generation === startedIn : undefined;
  const merged = { ...defaults, stillWanted, ...options };
  if (!running) {
    running = runAndPull(merged).finally(() => {
      running = null;
    });
    return running;
  }
  if (!queued) {
    const next: Promise<ReplayResult> = running
      .catch(() => null)
      .then(() => {
        if (queued === next) queued = null;
        // Asked for by a session that has ended since: nothing of it is sent or pulled now.
        if (generation !== startedIn) return { status: "signed-out" as const, sent: 0, retryAt: null };
        return schedule(options);
      });
    queued = next;
  }
  return queued;
}

async function runAndPull(options: SyncOptions): Promise<ReplayResult> {
  const result = await replay(options);
  scheduleRetry(result, options);
  if (result.status !== "signed-out" && options.pull !== false) {
    try {
      await pullChanges(options.pull ?? defaultApi);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) emit({ type: "signed-out" });
      // Offline or a server error: the copy stays as it is until the next trigger.
    }
  }
  return result;
}

function scheduleRetry(result: ReplayResult, options: ReplayOptions): void {
  if (retryTimer !== null) clearTimeout(retryTimer);
  retryTimer = null;
  if (!wired || result.status !== "waiting" || result.retryAt === null) return;
  const now = (options.now ?? Date.now)();
  retryTimer = setTimeout(() => {
    retryTimer = null;
    void schedule({}).catch(() => undefined);
  }, Math.max(0, result.retryAt - now));
}

/** Replays at start and whenever it may now succeed: back online, the page visible again, a
 * save queued here or in another tab; and when a backoff runs out. Returns the unwiring. */
export function startSync(options: SyncOptions = {}): () => void {
  defaults = options;
  wired = true;
  const trigger = () => {
    void schedule({}).catch(() => undefined);
  };
  const onVisible = () => {
    if (document.visibilityState === "visible") trigger();
  };
  window.addEventListener("online", trigger);
  document.addEventListener("visibilitychange", onVisible);
  const unsubscribe = subscribe((event) => {
    if (event.type === "enqueued") trigger();
  });
  trigger();
  return () => {
    window.removeEventListener("online", trigger);
    document.removeEventListener("visibilitychange", onVisible);
    unsubscribe();
    if (retryTimer !== null) clearTimeout(retryTimer);
    retryTimer = null;
    defaults = {};
    wired = false;
    generation++;
    queued = null; // the next session's first call queues its own run
  };
}
