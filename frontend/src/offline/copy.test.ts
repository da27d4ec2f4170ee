import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api, type ChangesPage, type Memory } from "../api/client";
import { json, memory, problem, stubFetch } from "../test/helpers";
import { deferred, freshOfflineState } from "../test/offline";
import { claimDevice, forgetCopy } from "./account";
import { CURSOR_KEY, getFromCopy, lastSyncAt, pullChanges, readCopy } from "./copy";
import { offlineDb } from "./db";
import { enqueueCreate, enqueueDelete, enqueueUpdate, markEntry } from "./queue";

beforeEach(async () => {
  await freshOfflineState();
  await claimDevice(1); // signed in: a pull writes only within a session
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

function page(changes: Memory[], cursor: string, more = false, deleted: string[] = []): ChangesPage {
  return { changes, deleted, cursor, more };
}

/** Answers the changes feed from `pages`, in order. */
function feed(...pages: (ChangesPage | Response)[]) {
  return stubFetch(() => {
    const next = pages.shift();
    if (!next) throw new Error("asked once too often");
    return next instanceof Response ? next : json(next);
  });
}

const at = (minute: number) => `2026-11-30T08:${String(minute).padStart(2, "0")}:00Z`;

async function copyIds(): Promise<string[]> {
  return (await readCopy()).map((row) => row.id);
}

describe("pulling the changes feed", () => {
  it("pages while the server says more, then stores the cursor", async () => {
    const calls = feed(
      page([memory("a", "A", { created_at: at(1) })], "c1", true),
      page([memory("b", "B", { created_at: at(2) })], "c2"),
    );

    const result = await pullChanges(api);

    expect(result).toEqual({ changed: 2, deleted: 0, full: true });
    expect(calls.map((call) => call.url)).toEqual([
      "/api/v1/memories/changes?limit=500",
      "/api/v1/memories/changes?limit=500&since=c1",
    ]);
    expect(await copyIds()).toEqual(["b", "a"]);
    expect(await (await offlineDb()).get("meta", CURSOR_KEY)).toBe("c2");
    expect(await lastSyncAt()).not.toBeNull();
  });

  it.each([
    ["a sign-out", () => forgetCopy()],
    ["another account's sign-in", () => claimDevice(2)],
  ])("stops writing once %s ends the session it began in", async (_, end) => {
    await claimDevice(1);
    const held = deferred<void>();
    let asked = 0;
    const pull = pullChanges({
      memoryChanges: async () => {
        asked++;
        if (asked === 1) return page([memory("a", "A")], "c1", true);
        await held.promise;
        return page([memory("b", "B")], "c2");
      },
    });
    await vi.waitFor(() => expect(asked).toBe(2));
    await end();
    held.resolve();

    expect(await pull).toEqual({ changed: 1, deleted: 0, full: true });
    expect(await copyIds()).toEqual([]); // page 1 went with the session; page 2 never came
    expect(await (await offlineDb()).get("meta", CURSOR_KEY)).toBeUndefined();
  });

  it("pulls nothing while nobody is signed in", async () => {
    await forgetCopy(); // signed out (a pull the service worker starts then, say)
    const calls = feed(page([memory("a", "A")], "c1"));

    expect(await pullChanges(api)).toEqual({ changed: 0, deleted: 0, full: false });
    expect(calls).toEqual([]);
    expect(await copyIds()).toEqual([]);
  });

  it("goes on from the stored cursor and applies deletions", async () => {
    feed(page([memory("a", "A"), memory("b", "B")], "c1"));
    await pullChanges(api);
    const calls = feed(page([], "c2", false, ["a"]));

    const result = await pullChanges(api);

    expect(calls[0]?.url).toBe("/api/v1/memories/changes?limit=500&since=c1");
    expect(result).toEqual({ changed: 0, deleted: 1, full: false });
    expect(await copyIds()).toEqual(["b"]);
  });

  it("keeps the higher version when a row comes again", async () => {
    feed(
      page([memory("a", "new", { version: 3 })], "c1", true),
      page([memory("a", "old", { version: 2 }), memory("b", "B", { version: 1 })], "c2", true),
      page([memory("b", "B enriched", { version: 1, updated_at: "2026-11-30T07:00:00Z" })], "c3"),
    );

    await pullChanges(api);

    expect((await getFromCopy("a"))?.content).toBe("new");
    expect((await getFromCopy("b"))?.content).toBe("B enriched");
  });

  it("starts over when the cursor expired and replaces the copy", async () => {
    feed(page([memory("a", "A"), memory("b", "B")], "c1"));
    await pullChanges(api);
    const calls = feed(problem(410, "cursor_expired", "Start over."), page([memory("b", "B"), memory("c", "C")], "c9"));

    const result = await pullChanges(api);

    expect(calls.map((call) => call.url)).toEqual([
      "/api/v1/memories/changes?limit=500&since=c1",
      "/api/v1/memories/changes?limit=500",
    ]);
    expect(result.full).toBe(true);
    expect((await copyIds()).sort()).toEqual(["b", "c"]);
    expect(await (await offlineDb()).get("meta", CURSOR_KEY)).toBe("c9");
  });

  it("keeps a row another tab wrote while a full sync ran", async () => {
    feed(page([memory("a", "A")], "c1"));
    await pullChanges(api);
    let asked = 0;
    stubFetch(async () => {
      asked++;
      if (asked === 1) return problem(410, "cursor_expired", "Start over.");
      // The full sync's page is on its way when another tab's replay stores its save.
      await (await offlineDb()).put("memories", memory("saved-meanwhile", "just sent by another tab"));
      return json(page([memory("b", "B")], "c2"));
    });

    await pullChanges(api);

    expect((await copyIds()).sort()).toEqual(["b", "saved-meanwhile"]);
  });

  it("keeps the copy and the cursor as they were when the server fails", async () => {
    feed(page([memory("a", "A")], "c1"));
    await pullChanges(api);
    feed(problem(503, "unavailable", "Down."));

    await expect(pullChanges(api)).rejects.toMatchObject({ status: 503 });

    expect(await copyIds()).toEqual(["a"]);
    expect(await (await offlineDb()).get("meta", CURSOR_KEY)).toBe("c1");
  });
});

describe("reading the copy", () => {
  it("shows the user's queued saves on top of the copy, newest first", async () => {
    feed(
      page(
        [
          memory("old", "Old", { created_at: at(1), version: 2 }),
          memory("edited", "Before", { created_at: at(2), version: 1 }),
          memory("deleted", "Gone soon", { created_at: at(3) }),
        ],
        "c1",
      ),
    );
    await pullChanges(api);
    const created = await enqueueCreate({ content: "Fresh", tags: ["x"] }, Date.parse(at(30)));
    const edit = await enqueueUpdate((await getFromCopy("edited")) as Memory, { content: "After" });
    await enqueueDelete("deleted");
    await markEntry(edit.key, { state: "needs_attention" });

    const rows = await readCopy();

    expect(rows.map((row) => [row.id, row.content, row.pending])).toEqual([
      [created.memoryId, "Fresh", "waiting"],
      ["edited", "After", "needs_attention"],
      ["old", "Old", null],
    ]);
    expect(rows[0]).toMatchObject({ tags: ["x"], created_at: "2026-11-30T08:30:00.000Z" });
    expect(await getFromCopy("deleted")).toBeNull();
    expect(await getFromCopy(created.memoryId)).toMatchObject({ content: "Fresh", pending: "waiting" });
  });
});
