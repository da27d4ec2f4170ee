import { beforeEach, describe, expect, it } from "vitest";
import { fillStorage, freshOfflineState } from "../test/offline";
import { actFor } from "../api/client";
import { memory } from "../test/helpers";
import { claimDevice, forgetCopy } from "./account";
import { putInCopy, readCopy } from "./copy";
import { loadDraft, saveDraft } from "./drafts";
import { DB_NAME, closeOfflineDb, offlineDb } from "./db";
import { claimEntry, enqueueCreate, flushHeldEntries, listEntries, markEntry, settleEntry } from "./queue";
import { rememberCsrfToken, storedCsrfToken } from "./workerApi";

beforeEach(freshOfflineState);

describe("claimDevice", () => {
  it("keeps what the first account saved before it was known", async () => {
    await enqueueCreate({ content: "Mine", kind: "note" });
    expect(await claimDevice(1)).toBe(false);
    expect(await listEntries()).toHaveLength(1);
    expect(await claimDevice(1)).toBe(false);
    expect(await listEntries()).toHaveLength(1);
  });

  it("wipes another account's copy and drafts and keeps its unsent saves out of sight", async () => {
    await claimDevice(1);
    await putInCopy(memory("m1", "Account one's"));
    await enqueueCreate({ content: "Not sent", kind: "note" });
    await saveDraft("new", { content: "Typing" });
    expect(await claimDevice(2)).toBe(true);
    expect(await readCopy()).toEqual([]);
    expect(await listEntries()).toEqual([]);
    expect(await loadDraft("new")).toBeNull();
  });

  it("gives an account back the saves it left unsent when another signed in, and only its own", async () => {
    await claimDevice(1);
    const first = await enqueueCreate({ content: "One's first", kind: "note" });
    const second = await enqueueCreate({ content: "One's second", kind: "note" });
    await claimEntry(first.key, Date.now()); // a replay was sending it when the account left
    await markEntry(second.key, { next_attempt_at: Date.now() + 60_000, attempts: 2 }); // backing off
    await claimDevice(2);
    await enqueueCreate({ content: "Two's", kind: "note" });

    expect(await claimDevice(1)).toBe(true);
    const back = await listEntries();
    expect(back.map((entry) => entry.payload)).toEqual([
      { content: "One's first", kind: "note" },
      { content: "One's second", kind: "note" },
    ]);
    expect(back.map((entry) => [entry.state, entry.claimed_at, entry.next_attempt_at, entry.attempts])).toEqual([
      ["waiting", null, 0, 0],
      ["waiting", null, 0, 2],
    ]);
    expect(await claimDevice(2)).toBe(true);
    expect((await listEntries()).map((entry) => entry.payload)).toEqual([{ content: "Two's", kind: "note" }]);
    await claimDevice(1); // parked again, back again: once each, not twice
    expect(await listEntries()).toHaveLength(2);
  });

  it("keeps a save that reached the server as another account signed in out of that one's copy", async () => {
    await claimDevice(1);
    const sending = await enqueueCreate({ content: "One's, in flight", kind: "note" });
    await claimEntry(sending.key, Date.now());
    await claimDevice(2); // parks it mid-send

    await settleEntry(sending, { memory: memory("srv-1", "One's, in flight") });

    expect(await readCopy()).toEqual([]);
    expect(await listEntries()).toEqual([]);
  });

  it("parks a save a tab of the account that left makes after another account signed in", async () => {
    await claimDevice(1);
    await claimDevice(2); // another tab signed in as account 2
    actFor(1); // this tab still shows account 1
    try {
      await enqueueCreate({ content: "One's, saved in the old tab", kind: "note" });
    } finally {
      actFor(null);
    }
    expect(await listEntries()).toEqual([]); // not in account 2's queue

    await claimDevice(1);
    expect((await listEntries()).map((entry) => entry.payload)).toEqual([
      { content: "One's, saved in the old tab", kind: "note" },
    ]);
  });

  it("parks a save the old tab kept in memory (a full disk) once there is room again", async () => {
    await claimDevice(1);
    actFor(1);
    try {
      const full = fillStorage("throw");
      await enqueueCreate({ content: "One's, held in memory", kind: "note" });
      full.mockRestore();
      await (await offlineDb()).put("meta", "2", "owner"); // another tab claimed it for account 2
      expect(await flushHeldEntries()).toBe(true);
    } finally {
      actFor(null);
    }
    expect(await listEntries()).toEqual([]); // never in account 2's queue

    await claimDevice(1);
    expect((await listEntries()).map((entry) => entry.payload)).toEqual([
      { content: "One's, held in memory", kind: "note" },
    ]);
  });

  it("parks with the rest what this page kept in memory when another account signs in here", async () => {
    await claimDevice(1);
    const full = fillStorage("throw");
    await enqueueCreate({ content: "One's, held in memory", kind: "note" });
    full.mockRestore();

    await claimDevice(2); // signed out, and account 2 signs in, in this same tab
    expect(await flushHeldEntries()).toBe(true);
    expect(await listEntries()).toEqual([]);
    await claimDevice(1);
    expect((await listEntries()).map((entry) => entry.payload)).toEqual([
      { content: "One's, held in memory", kind: "note" },
    ]);
  });

  it("brings back parked saves in their order even when their places in it repeat", async () => {
    await claimDevice(1);
    await enqueueCreate({ content: "first", kind: "note" });
    await enqueueCreate({ content: "second", kind: "note" });
    await claimDevice(2);
    const db = await offlineDb();
    const parked = (await db.get("parked", "1")) ?? [];
    // Parked from two tabs, each numbering from its own view of the queue: the same seq twice.
    await db.put("parked", parked.map((entry) => ({ ...entry, seq: 1 })), "1");

    expect(await claimDevice(1)).toBe(true);
    expect((await listEntries()).map((entry) => [entry.seq, entry.payload])).toEqual([
      [1, { content: "first", kind: "note" }],
      [2, { content: "second", kind: "note" }],
    ]);
  });

  it("drops from the parked saves one that reached the server as its account left", async () => {
    await claimDevice(1);
    const sending = await enqueueCreate({ content: "One's, in flight", kind: "note" });
    await claimEntry(sending.key, Date.now());
    await claimDevice(2);
    await settleEntry(sending, { memory: memory("srv-1", "One's, in flight") });

    await claimDevice(1);
    expect(await listEntries()).toEqual([]); // not sent a second time
  });

  it("acts once for two claims at once, losing no account's saves", async () => {
    await claimDevice(1);
    await enqueueCreate({ content: "One's", kind: "note" });
    await claimDevice(2);
    await enqueueCreate({ content: "Two's", kind: "note" });

    // Two tabs starting together (or React's double effect) as account 1 signs in again.
    expect((await Promise.all([claimDevice(1), claimDevice(1)])).sort()).toEqual([false, true]);

    expect((await listEntries()).map((entry) => entry.payload)).toEqual([{ content: "One's", kind: "note" }]);
    await claimDevice(2);
    expect((await listEntries()).map((entry) => entry.payload)).toEqual([{ content: "Two's", kind: "note" }]);
  });

  it("keeps the saves queued before the database had a place to park them", async () => {
    await closeOfflineDb();
    const { openDB } = await import("idb");
    const old = await openDB(DB_NAME, 2, {
      upgrade(db) {
        const queue = db.createObjectStore("queue", { keyPath: "key" });
        queue.createIndex("seq", "seq", { unique: true });
        queue.createIndex("memoryId", "memoryId");
        db.createObjectStore("memories", { keyPath: "id" }).createIndex("created_at", "created_at");
        db.createObjectStore("meta");
        db.createObjectStore("drafts", { keyPath: "id" });
      },
    });
    await old.put("meta", "1", "owner");
    old.close();
    await enqueueCreate({ content: "Queued by the last release", kind: "note" });

    await claimDevice(2);
    await claimDevice(1);

    expect((await offlineDb()).version).toBe(3);
    expect((await listEntries()).map((entry) => entry.payload)).toEqual([
      { content: "Queued by the last release", kind: "note" },
    ]);
  });
});

describe("forgetCopy", () => {
  it("drops the copy and drafts on sign-out but keeps the saves not sent for the same account", async () => {
    await claimDevice(1);
    await putInCopy(memory("m1", "Synced"));
    await enqueueCreate({ content: "Not sent", kind: "note" });
    await saveDraft("new", { content: "Typing" });
    await rememberCsrfToken("csrftoken=session-one");
    await forgetCopy();
    expect((await readCopy()).map((m) => m.content)).toEqual(["Not sent"]);
    expect(await storedCsrfToken()).toBe(""); // the worker sends nothing until a sign-in
    expect(await loadDraft("new")).toBeNull();
    expect(await claimDevice(1)).toBe(false);
    expect(await listEntries()).toHaveLength(1);
  });
});
