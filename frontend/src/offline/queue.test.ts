import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { memory } from "../test/helpers";
import { fillStorage, freshOfflineState } from "../test/offline";
import { offlineDb } from "./db";
import { subscribe, type OfflineEvent } from "./events";
import {
  claimEntry,
  discard,
  enqueueCreate,
  enqueueDelete,
  enqueueUpdate,
  fix,
  flushHeldEntries,
  hasHeldEntries,
  listEntries,
  markEntry,
  pendingCount,
  removeEntry,
  withdrawEntry,
} from "./queue";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const unsubscribes: (() => void)[] = [];

beforeEach(freshOfflineState);
afterEach(() => {
  vi.restoreAllMocks();
  for (const stop of unsubscribes.splice(0)) stop();
});

function events(): OfflineEvent[] {
  const seen: OfflineEvent[] = [];
  unsubscribes.push(subscribe((event) => seen.push(event)));
  return seen;
}

describe("the save queue", () => {
  it("keeps saves in the order they were made, each with its own key and a local id", async () => {
    const first = await enqueueCreate({ content: "one" }, Date.parse("2026-11-30T08:00:00Z"));
    const second = await enqueueCreate({ content: "two" });
    const third = await enqueueDelete("m1");

    const entries = await listEntries();
    expect(entries.map((entry) => entry.key)).toEqual([first.key, second.key, third.key]);
    expect(entries.map((entry) => entry.seq)).toEqual([1, 2, 3]);
    expect(first.key).toMatch(UUID);
    expect(new Set(entries.map((entry) => entry.key)).size).toBe(3);
    expect(first.memoryId).toBe(`local:${first.key}`);
    expect(first.created_at).toBe("2026-11-30T08:00:00.000Z");
    expect(entries[0]).toMatchObject({ state: "waiting", attempts: 0, last_error: null, revision: 0 });
    expect(await pendingCount()).toBe(3);
  });

  it("records an edit with the version and fields it started from", async () => {
    const base = memory("m1", "old text", { version: 4, tags: ["a"] });
    const entry = await enqueueUpdate(base, { content: "new text" });
    expect(entry).toMatchObject({
      operation: "update",
      memoryId: "m1",
      base_version: 4,
      base: { content: "old text", tags: ["a"] },
      payload: { content: "new text" },
    });
  });

  it("tells the screens when it changes", async () => {
    const seen = events();
    await enqueueCreate({ content: "one" });
    expect(seen.map((event) => event.type)).toEqual(["queue", "enqueued"]);
  });

  it("lets one claim of an entry win", async () => {
    const entry = await enqueueCreate({ content: "one" });
    const [a, b] = await Promise.all([claimEntry(entry.key, 1000), claimEntry(entry.key, 1000)]);
    expect([a.kind, b.kind].sort()).toEqual(["claimed", "taken"]);
    expect((await listEntries())[0]?.state).toBe("syncing");
  });

  it("takes over a claim a dead tab left behind", async () => {
    const entry = await enqueueCreate({ content: "one" });
    await claimEntry(entry.key, 1000);
    expect((await claimEntry(entry.key, 1000 + 60_000)).kind).toBe("taken");
    expect((await claimEntry(entry.key, 1000 + 2 * 60_000)).kind).toBe("claimed");
  });

  it("fixes an entry that needs attention and sends it as a new revision", async () => {
    const entry = await enqueueCreate({ content: "" });
    await markEntry(entry.key, { state: "needs_attention", last_error: "Memory: This field may not be blank.", attempts: 1 });

    const fixed = await fix(entry.key, { content: "now with text" });

    expect(fixed).toMatchObject({
      key: entry.key,
      state: "waiting",
      attempts: 0,
      last_error: null,
      revision: 1,
      payload: { content: "now with text" },
    });
  });

  it("does not fix an entry that is not waiting for the user", async () => {
    const entry = await enqueueCreate({ content: "one" });
    await fix(entry.key, { content: "other" });
    expect((await listEntries())[0]?.payload).toEqual({ content: "one" });
  });

  it("discards a create together with the edits queued after it", async () => {
    const create = await enqueueCreate({ content: "one" });
    const edit = await enqueueUpdate(memory(create.memoryId, "one", { version: 0 }), { content: "two" });
    const other = await enqueueDelete("m9");
    await markEntry(create.key, { state: "needs_attention" });

    await discard(create.key);

    expect((await listEntries()).map((entry) => entry.key)).toEqual([other.key]);
    expect(edit.memoryId).toBe(create.memoryId);
  });

  it("removes an entry", async () => {
    const entry = await enqueueCreate({ content: "one" });
    await removeEntry(entry.key);
    expect(await pendingCount()).toBe(0);
  });
});

describe("a full disk", () => {
  for (const form of ["throw", "abort"] as const) {
    it(`keeps the save in memory when the write fails (${form})`, async () => {
      const seen = events();
      const before = await enqueueCreate({ content: "stored" });
      const full = fillStorage(form);

      const held = await enqueueCreate({ content: "held" });

      expect(seen.some((event) => event.type === "storage-full")).toBe(true);
      expect(hasHeldEntries()).toBe(true);
      expect((await listEntries()).map((entry) => entry.key)).toEqual([before.key, held.key]);
      expect(await pendingCount()).toBe(2);
      expect(await (await offlineDb()).get("queue", held.key)).toBeUndefined();

      full.mockRestore();
      expect(await flushHeldEntries()).toBe(true);
      expect(hasHeldEntries()).toBe(false);
      expect(await (await offlineDb()).get("queue", held.key)).toMatchObject({ payload: { content: "held" } });
    });
  }

  it("keeps a change to a stored entry in memory when it cannot be written", async () => {
    const entry = await enqueueCreate({ content: "one" });
    const full = fillStorage("abort");

    await markEntry(entry.key, { attempts: 3 });

    expect((await listEntries())[0]?.attempts).toBe(3);
    expect((await (await offlineDb()).get("queue", entry.key))?.attempts).toBe(0);
    full.mockRestore();
    await flushHeldEntries();
    expect((await (await offlineDb()).get("queue", entry.key))?.attempts).toBe(3);
  });
});

describe("withdrawing a save", () => {
  it("takes back a save no replay has claimed, and never one being sent", async () => {
    const waiting = await enqueueDelete("m1");
    const sending = await enqueueDelete("m2");
    await claimEntry(sending.key, Date.now());
    expect(await withdrawEntry(waiting.key)).toBe(true);
    expect(await withdrawEntry(sending.key)).toBe(false);
    expect((await listEntries()).map((entry) => entry.key)).toEqual([sending.key]);
  });

  it("takes back a save kept in memory when storage is full", async () => {
    const full = fillStorage("throw");
    const held = await enqueueDelete("m1");
    expect(hasHeldEntries()).toBe(true);
    expect(await withdrawEntry(held.key)).toBe(true);
    expect(hasHeldEntries()).toBe(false);
    full.mockRestore();
  });
});
