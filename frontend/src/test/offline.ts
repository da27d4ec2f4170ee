// A fresh IndexedDB (fake-indexeddb) and a clock the tests move by hand, for src/offline/.
import "fake-indexeddb/auto";
import { vi } from "vitest";
import { IDBFactory } from "fake-indexeddb";
import { closeOfflineDb } from "../offline/db";
import { forgetPageHideDrafts } from "../offline/drafts";
import { closeChannel } from "../offline/events";
import { forgetHeldEntries } from "../offline/queue";

/** Every test starts with an empty database, nothing held in memory and no channel open. */
export async function freshOfflineState(): Promise<void> {
  await closeOfflineDb();
  forgetHeldEntries();
  closeChannel();
  forgetPageHideDrafts();
  globalThis.indexedDB = new IDBFactory();
}

export interface Clock {
  now: () => number;
  advance: (ms: number) => void;
}

export function clock(start = Date.parse("2026-11-30T10:00:00Z")): Clock {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

/** A promise and the functions that settle it (to hold a stub response until the test says). */
export function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Makes every IndexedDB put fail as a full disk does: thrown at once ("throw"), or as the
 * transaction aborting with a QuotaExceededError ("abort", the request and `tx.done` rejecting).
 * Returns the spy; `mockRestore()` frees the space again. */
export function fillStorage(form: "throw" | "abort") {
  const original = IDBObjectStore.prototype.put;
  return vi.spyOn(IDBObjectStore.prototype, "put").mockImplementation(function (
    this: IDBObjectStore,
    ...args: Parameters<IDBObjectStore["put"]>
  ) {
    if (form === "throw") throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
    const request = original.apply(this, args);
    (this.transaction as unknown as { _abort(name: string): void })._abort("QuotaExceededError");
    return request;
  });
}

/** vi.waitFor with room for a busy machine: the default second is too tight when the tests
 * share two cores with others (IndexedDB and the replay run on real timers). */
export function eventually<T>(check: () => T | Promise<T>, options: { timeout?: number } = {}): Promise<T> {
  return vi.waitFor(check, { interval: 20, ...options, timeout: Math.max(options.timeout ?? 0, 10_000) });
}
