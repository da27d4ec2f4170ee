import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Memory } from "../api/client";
import { json, memory, problem, stubFetch, versionConflict, type Call } from "../test/helpers";
import { clock, deferred, fillStorage, freshOfflineState } from "../test/offline";
import { claimDevice } from "./account";
import { getFromCopy, readCopy } from "./copy";
import { offlineDb } from "./db";
import { subscribe, type OfflineEvent } from "./events";
import { claimEntry, enqueueCreate, enqueueDelete, enqueueUpdate, fix, discard, listEntries, pendingCount } from "./queue";
import { BACKOFF_CAP_MS, backoffDelay, replay, startSync, syncNow, type Locks } from "./sync";

const unsubscribes: (() => void)[] = [];
beforeEach(async () => {
  await freshOfflineState();
  await claimDevice(1); // signed in: a pull writes only within a session
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
  vi.useRealTimers();
  for (const stop of unsubscribes.splice(0)) stop();
});

function events(): OfflineEvent[] {
  const seen: OfflineEvent[] = [];
  unsubscribes.push(subscribe((event) => seen.push(event)));
  return seen;
}

type Handler = (call: { url: string; method: string; body: Record<string, unknown>; key: string }) =>
  | Response
  | Promise<Response | undefined>
  | undefined;

/** A server that saves what it is sent (creates get ids "srv-1", "srv-2"…), unless a handler
 * in `script` answers first (each handler answers once, in order, or returns undefined to pass). */
function server(...script: Handler[]) {
  let ids = 0;
  const calls = stubFetch(async (url, init) => {
    const method = (init.method ?? "GET").toUpperCase();
    const body = typeof init.body === "string" ? (JSON.parse(init.body) as Record<string, unknown>) : {};
    const key = new Headers(init.headers).get("Idempotency-Key") ?? "";
    const handler = script[0];
    if (handler) {
      let answer: Response | undefined;
      try {
        answer = await handler({ url, method, body, key });
      } catch (error) {
        script.shift();
        throw error;
      }
      if (answer) {
        script.shift();
        return answer;
      }
    }
    if (method === "POST") {
      ids++;
      return json({ ...memory(`srv-${ids}`, String(body.content), { created_at: String(body.created_at) }), duplicate: false }, 201);
    }
    if (method === "PATCH") {
      const id = url.split("/").at(-1) ?? "";
      const version = Number((new Headers(init.headers).get("If-Match") ?? "0").replaceAll('"', ""));
      return json(memory(id, String(body.content ?? "server text"), { ...body, version: version + 1 }));
    }
    if (method === "DELETE") return new Response(null, { status: 204 });
    return problem(404, "not_found", "Not found.");
  });
  return calls;
}

const writes = (calls: Call[]) => calls.filter((call) => call.init.method !== undefined && call.init.method !== "GET");
const keyOf = (call: Call) => call.headers.get("Idempotency-Key");

describe("the replay", () => {
  it("sends the queue in order, one at a time, each with its key and the time Save was pressed", async () => {
    const calls = server();
    const first = await enqueueCreate({ content: "one" }, Date.parse("2026-11-30T08:00:00Z"));
    const second = await enqueueCreate({ content: "two" }, Date.parse("2026-11-30T08:01:00Z"));
    const gone = await enqueueDelete("m7");

    const result = await replay({ locks: null });

    expect(result).toEqual({ status: "done", sent: 3, retryAt: null });
    expect(calls.map((call) => [call.init.method, call.url, keyOf(call)])).toEqual([
      ["POST", "/api/v1/memories", first.key],
      ["POST", "/api/v1/memories", second.key],
      ["DELETE", "/api/v1/memories/m7", gone.key],
    ]);
    expect(calls[0]?.body).toEqual({ content: "one", created_at: "2026-11-30T08:00:00.000Z" });
    expect(await pendingCount()).toBe(0);
  });

  it("puts the server's memory in the copy in place of the device's row", async () => {
    server();
    const entry = await enqueueCreate({ content: "one" });
    expect((await readCopy()).map((row) => [row.id, row.pending])).toEqual([[entry.memoryId, "waiting"]]);

    await replay({ locks: null });

    expect((await readCopy()).map((row) => [row.id, row.pending])).toEqual([["srv-1", null]]);
    expect(await getFromCopy(entry.memoryId)).toBeNull();
  });

  it("tells the screens, in every tab, which create reached the server and whether it was a duplicate", async () => {
    server(({ method }) =>
      method === "POST" ? json({ ...memory("srv-old", "one"), duplicate: true }, 200) : undefined,
    );
    const seen = events();
    const entry = await enqueueCreate({ content: "one" });
    await replay({ locks: null });
    expect(seen.filter((event) => event.type === "created")).toEqual([
      { type: "created", key: entry.key, memory: expect.objectContaining({ id: "srv-old" }), duplicate: true },
    ]);
  });

  it("sends an edit queued for a memory not yet sent to the id the server gave it", async () => {
    const calls = server();
    const create = await enqueueCreate({ content: "one" });
    const local = await getFromCopy(create.memoryId);
    await enqueueUpdate(local as Memory, { content: "one, edited" });

    await replay({ locks: null });

    expect(calls[1]).toMatchObject({ url: "/api/v1/memories/srv-1", body: { content: "one, edited" } });
    expect(calls[1]?.headers.get("If-Match")).toBe('"1"');
    expect((await getFromCopy("srv-1"))?.content).toBe("one, edited");
  });

  it("treats a delete of a memory that is already gone as done", async () => {
    server(() => problem(404, "not_found", "Not found."));
    await enqueueDelete("m1");
    expect((await replay({ locks: null })).sent).toBe(1);
    expect(await pendingCount()).toBe(0);
  });
});

describe("retries", () => {
  it("backs off on a 5xx, keeps the key, and stops the run so later saves wait", async () => {
    const time = clock();
    const calls = server(() => problem(503, "unavailable", "Down for a moment."));
    const first = await enqueueCreate({ content: "one" });
    await enqueueCreate({ content: "two" });

    const result = await replay({ locks: null, now: time.now, random: () => 0.5 });

    expect(result.status).toBe("waiting");
    expect(calls).toHaveLength(1);
    const [entry] = await listEntries();
    expect(entry).toMatchObject({ state: "waiting", attempts: 1, last_error: "Down for a moment." });
    expect(entry?.next_attempt_at).toBe(time.now() + 500);

    // Before the backoff runs out nothing is sent; after it, the same key goes again.
    expect((await replay({ locks: null, now: time.now })).status).toBe("waiting");
    expect(calls).toHaveLength(1);
    time.advance(500);
    expect((await replay({ locks: null, now: time.now })).sent).toBe(2);
    expect(calls.map(keyOf)).toEqual([first.key, first.key, expect.any(String)]);
    expect(keyOf(calls[2] as Call)).not.toBe(first.key);
  });

  it("backs off on a network error", async () => {
    const time = clock();
    const calls = server(() => Promise.reject(new TypeError("Failed to fetch")));
    await enqueueCreate({ content: "one" });

    const result = await replay({ locks: null, now: time.now, random: () => 0.99 });

    expect(result.status).toBe("waiting");
    expect(calls).toHaveLength(1);
    expect((await listEntries())[0]).toMatchObject({ attempts: 1, last_error: "Could not reach the server. Check your connection." });
  });

  it("honours Retry-After on a 429 and on a key still in use", async () => {
    const time = clock();
    const limited = () => {
      const response = problem(429, "rate_limited", "Slow down.");
      response.headers.set("Retry-After", "30");
      return response;
    };
    const inUse = () => {
      const response = problem(409, "idempotency_key_in_use", "Still running.");
      response.headers.set("Retry-After", "1");
      return response;
    };
    server(limited, inUse);
    const entry = await enqueueCreate({ content: "one" });

    await replay({ locks: null, now: time.now });
    expect((await listEntries())[0]?.next_attempt_at).toBe(time.now() + 30_000);
    time.advance(30_000);
    await replay({ locks: null, now: time.now });
    expect((await listEntries())[0]).toMatchObject({ key: entry.key, attempts: 2, next_attempt_at: time.now() + 1000 });
    time.advance(1000);
    expect((await replay({ locks: null, now: time.now })).sent).toBe(1);
  });

  it("waits at most five minutes, whatever the count or the server says", () => {
    expect(backoffDelay(1, null, () => 0.999)).toBeLessThan(1000);
    expect(backoffDelay(4, null, () => 0.999)).toBeLessThan(8000);
    expect(backoffDelay(30, null, () => 0.999)).toBeLessThanOrEqual(BACKOFF_CAP_MS);
    expect(backoffDelay(30, null, () => 0.999)).toBeGreaterThan(BACKOFF_CAP_MS - 1000);
    expect(backoffDelay(2, 3600, () => 0)).toBe(BACKOFF_CAP_MS);
    expect(backoffDelay(1, null, () => 0)).toBeGreaterThan(0);
  });

  it("sends at once on Sync now, even before the backoff ran out", async () => {
    const time = clock();
    const calls = server(() => problem(500, "error", "Oops."));
    await enqueueCreate({ content: "one" });
    await replay({ locks: null, now: time.now });

    expect((await replay({ locks: null, now: time.now, force: true })).sent).toBe(1);
    expect(calls).toHaveLength(2);
  });
});

describe("saves the user must act on", () => {
  it("sends a save again stamped by the server when only its time is refused (a fast clock)", async () => {
    const calls = server(() =>
      problem(400, "invalid", "created_at: more than 5 minutes ahead", { created_at: ["ahead"] }),
    );
    const entry = await enqueueCreate({ content: "written on a phone whose clock runs fast" });

    const result = await replay({ locks: null });

    expect(result).toMatchObject({ status: "done", sent: 1 });
    expect(calls.map(keyOf)).toEqual([entry.key, `${entry.key}:untimed`]);
    expect(calls[0]?.body).toHaveProperty("created_at");
    expect(calls[1]?.body).not.toHaveProperty("created_at");
    expect(await pendingCount()).toBe(0);
  });

  it("does not drop the time when another field is refused too", async () => {
    const calls = server(() =>
      problem(400, "invalid", "two fields", { created_at: ["ahead"], content: ["blank"] }),
    );
    await enqueueCreate({ content: " " });
    await replay({ locks: null });
    expect(calls).toHaveLength(1);
    expect((await listEntries())[0]?.state).toBe("needs_attention");
  });

  it("parks a 4xx with the server's text and goes on with saves that do not depend on it", async () => {
    const calls = server(() => problem(400, "invalid", "Memory: This field may not be blank.", { content: ["blank"] }));
    const bad = await enqueueCreate({ content: " " });
    const local = await getFromCopy(bad.memoryId);
    const dependent = await enqueueUpdate(local as Memory, { title: "A title" });
    const independent = await enqueueCreate({ content: "fine" });

    const result = await replay({ locks: null });

    expect(result).toMatchObject({ status: "done", sent: 1 });
    expect(calls.map(keyOf)).toEqual([bad.key, independent.key]);
    const entries = await listEntries();
    expect(entries.map((entry) => [entry.key, entry.state])).toEqual([
      [bad.key, "needs_attention"],
      [dependent.key, "waiting"],
    ]);
    expect(entries[0]?.last_error).toBe("Memory: This field may not be blank.");
    expect((await getFromCopy(bad.memoryId))?.pending).toBe("needs_attention");
  });

  it("sends a fixed save with a key of its own, then what waited on it", async () => {
    const calls = server(() => problem(400, "invalid", "Memory: This field may not be blank."));
    const bad = await enqueueCreate({ content: " " });
    const local = await getFromCopy(bad.memoryId);
    await enqueueUpdate(local as Memory, { title: "A title" });
    await replay({ locks: null });

    await fix(bad.key, { content: "Now with text" });
    expect((await replay({ locks: null })).sent).toBe(2);

    expect(calls.map((call) => [call.init.method, keyOf(call)])).toEqual([
      ["POST", bad.key],
      ["POST", `${bad.key}:r1`],
      ["PATCH", expect.any(String)],
    ]);
    expect(calls[1]?.body).toMatchObject({ content: "Now with text" });
    expect(await pendingCount()).toBe(0);
  });

  it("drops a discarded save", async () => {
    const calls = server(() => problem(402, "quota_exceeded", "Your plan holds 100 memories."));
    const bad = await enqueueCreate({ content: "one" });
    await replay({ locks: null });
    expect((await listEntries())[0]?.last_error).toBe("Your plan holds 100 memories.");

    await discard(bad.key);

    expect(await pendingCount()).toBe(0);
    expect(await readCopy()).toEqual([]);
    await replay({ locks: null });
    expect(calls).toHaveLength(1);
  });

  it("stops on 401 and keeps everything waiting", async () => {
    const seen = events();
    const calls = server(() => problem(401, "not_authenticated", "Sign in."));
    await enqueueCreate({ content: "one" });
    await enqueueCreate({ content: "two" });

    expect((await replay({ locks: null })).status).toBe("signed-out");

    expect(calls).toHaveLength(1);
    expect((await listEntries()).map((entry) => [entry.state, entry.attempts])).toEqual([
      ["waiting", 0],
      ["waiting", 0],
    ]);
    expect(seen.some((event) => event.type === "signed-out")).toBe(true);
  });
});

describe("an edit that meets a newer version", () => {
  const base = memory("m1", "my text", { version: 3, tags: ["a"] });

  it("merges by itself when the server changed only what the user did not touch", async () => {
    const enriched = memory("m1", "my text", { version: 4, tags: ["a", "ai-tag"], summary: "A summary." });
    const calls = server(({ method }) => (method === "PATCH" ? versionConflict(enriched) : undefined));
    const entry = await enqueueUpdate(base, { content: "my text, edited" });

    expect((await replay({ locks: null })).sent).toBe(1);

    expect(calls.map((call) => [call.headers.get("If-Match"), keyOf(call), call.body])).toEqual([
      ['"3"', entry.key, { content: "my text, edited" }],
      ['"4"', `${entry.key}:r1`, { content: "my text, edited" }],
    ]);
    expect(await pendingCount()).toBe(0);
    expect((await getFromCopy("m1"))?.version).toBe(5);
  });

  it("asks the user when both sides changed the same field", async () => {
    const seen = events();
    const theirs = memory("m1", "their text", { version: 4, tags: ["a"] });
    const calls = server(({ method }) => (method === "PATCH" ? versionConflict(theirs) : undefined));
    const entry = await enqueueUpdate(base, { content: "my text, edited" });

    await replay({ locks: null });

    expect(calls).toHaveLength(1);
    const [parked] = await listEntries();
    expect(parked).toMatchObject({ state: "needs_attention", conflict: theirs });
    const conflict = seen.find((event) => event.type === "conflict");
    expect(conflict).toMatchObject({ type: "conflict", entry: { key: entry.key }, theirs });

    // "Keep mine": the user's text on top of the server's version.
    await fix(entry.key, { content: "my text, edited" });
    await replay({ locks: null });
    expect(calls[1]?.headers.get("If-Match")).toBe('"4"');
    expect(keyOf(calls[1] as Call)).toBe(`${entry.key}:r1`);
    expect(await pendingCount()).toBe(0);
  });
});

describe("several tabs", () => {
  it("sends each entry once when two replays run at once without Web Locks", async () => {
    const held = deferred<void>();
    // The server holds its first answer until both replays have started.
    const calls = server(async () => {
      await held.promise;
      return undefined;
    });
    const entries = [await enqueueCreate({ content: "one" }), await enqueueCreate({ content: "two" }), await enqueueCreate({ content: "three" })];

    const tabs = Promise.all([replay({ locks: null }), replay({ locks: null })]);
    held.resolve();
    const results = await tabs;

    expect(results.reduce((sum, result) => sum + result.sent, 0)).toBe(3);
    expect(writes(calls).map(keyOf).sort()).toEqual(entries.map((entry) => entry.key).sort());
    expect(await pendingCount()).toBe(0);
  });

  it("takes over at once, under the lock, a save a closed tab left syncing; without it only once stale", async () => {
    const calls = server();
    const entry = await enqueueCreate({ content: "one" });
    await claimEntry(entry.key, Date.now()); // the tab that claimed it was closed mid-send
    expect(await replay({ locks: null })).toMatchObject({ status: "busy", sent: 0 });
    const locks: Locks = { request: (_name, _options, callback) => callback({}) };
    expect(await replay({ locks })).toMatchObject({ status: "done", sent: 1 });
    expect(writes(calls).map(keyOf)).toEqual([entry.key]);
  });

  it("lets only the tab holding the lock replay", async () => {
    const calls = server();
    let held = false;
    const locks: Locks = {
      async request(_name, _options, callback) {
        if (held) return callback(null);
        held = true;
        try {
          return await callback({});
        } finally {
          held = false;
        }
      },
    };
    await enqueueCreate({ content: "one" });
    await enqueueCreate({ content: "two" });

    const [a, b] = await Promise.all([replay({ locks }), replay({ locks })]);

    expect([a.status, b.status].sort()).toEqual(["busy", "done"]);
    expect(calls).toHaveLength(2);
  });
});

describe("a full disk", () => {
  for (const form of ["throw", "abort"] as const) {
    it(`sends a save kept in memory once the network is back (${form})`, async () => {
      const calls = server(() => Promise.reject(new TypeError("offline")));
      const full = fillStorage(form);
      const entry = await enqueueCreate({ content: "kept in memory" });
      expect(await (await offlineDb()).count("queue")).toBe(0);

      const time = clock();
      await replay({ locks: null, now: time.now });
      expect(await pendingCount()).toBe(1);
      time.advance(BACKOFF_CAP_MS);
      await replay({ locks: null, now: time.now });

      expect(calls.map(keyOf)).toEqual([entry.key, entry.key]);
      expect(await pendingCount()).toBe(0);
      full.mockRestore();
    });
  }

  it("writes a save kept in memory into IndexedDB once there is room", async () => {
    server(() => Promise.reject(new TypeError("offline")));
    const full = fillStorage("throw");
    const entry = await enqueueCreate({ content: "kept in memory" });
    full.mockRestore();

    await replay({ locks: null });

    expect(await (await offlineDb()).get("queue", entry.key)).toMatchObject({ attempts: 1, state: "waiting" });
  });
});

describe("the triggers", () => {
  it("replays at start, when back online and when a save is queued, and again when the backoff runs out", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const calls = server(() => problem(503, "unavailable", "Down."));
    const stop = startSync({ locks: null, pull: false, random: () => 0 });
    await vi.waitFor(() => expect(calls).toHaveLength(0));

    await enqueueCreate({ content: "one" });
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    await vi.waitFor(async () => expect((await listEntries())[0]?.attempts).toBe(1));

    await vi.advanceTimersByTimeAsync(600);
    await vi.waitFor(() => expect(calls).toHaveLength(2));
    await vi.waitFor(async () => expect(await pendingCount()).toBe(0));

    await enqueueCreate({ content: "two" });
    await vi.waitFor(() => expect(calls).toHaveLength(3));
    stop();
  });

  it("replays when the network comes back and when the page is shown again", async () => {
    const time = clock();
    const calls = server(
      () => Promise.reject(new TypeError("offline")),
      () => Promise.reject(new TypeError("offline")),
    );
    await enqueueCreate({ content: "one" });
    const stop = startSync({ locks: null, pull: false, now: time.now, random: () => 0 });
    await vi.waitFor(async () => expect((await listEntries())[0]?.attempts).toBe(1));

    time.advance(1000);
    window.dispatchEvent(new Event("online"));
    await vi.waitFor(async () => expect((await listEntries())[0]?.attempts).toBe(2));

    time.advance(5000);
    document.dispatchEvent(new Event("visibilitychange"));
    await vi.waitFor(async () => expect(await pendingCount()).toBe(0));
    expect(calls).toHaveLength(3);
    stop();
  });

  it("sets no backoff timer once unwired (signed out): nothing is sent later", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const calls = server(() => problem(503, "unavailable", "Later."));
    await enqueueCreate({ content: "one" });
    const stop = startSync({ locks: null, pull: false, random: () => 0 });
    await vi.waitFor(() => expect(writes(calls)).toHaveLength(1));
    stop();
    await syncNow({ locks: null, pull: false }); // a run that ends after sign-out
    const sent = writes(calls).length;
    await vi.advanceTimersByTimeAsync(BACKOFF_CAP_MS + 1000);
    expect(writes(calls)).toHaveLength(sent);
  });

  it("drops a run queued before sign-out, and runs the next session's own", async () => {
    const gate = deferred<void>();
    const calls = server(async () => {
      await gate.promise;
      return undefined;
    });
    await enqueueCreate({ content: "one" });
    const stop = startSync({ locks: null, pull: false });
    await vi.waitFor(() => expect(writes(calls)).toHaveLength(1)); // the first run, held
    const queuedBefore = syncNow({ locks: null, pull: false });
    stop(); // signed out while it waited
    const stopNext = startSync({ locks: null, pull: false }); // the next session starts
    await enqueueCreate({ content: "two" });
    gate.resolve();

    expect((await queuedBefore).status).toBe("signed-out");
    const contents = () => writes(calls).map((call) => (call.body as { content: string }).content);
    await vi.waitFor(() => expect(contents()).toEqual(["one", "two"])); // by the next session's run
    stopNext();
  });

  it("on Sync now sends what backs off, then pulls the server's changes", async () => {
    const time = clock();
    const calls = server(() => problem(503, "unavailable", "Down."));
    await enqueueCreate({ content: "one" });
    await replay({ locks: null, now: time.now });
    const pulled = vi.fn(async () => ({
      changes: [memory("srv-1", "one"), memory("srv-9", "from elsewhere")],
      deleted: [],
      cursor: "c1",
      more: false,
    }));

    const result = await syncNow({ locks: null, now: time.now, pull: { memoryChanges: pulled } });

    expect(result.sent).toBe(1);
    expect(calls).toHaveLength(2);
    expect(pulled).toHaveBeenCalledWith(null, undefined);
    expect((await readCopy()).map((row) => row.id).sort()).toEqual(["srv-1", "srv-9"]);
  });

  it("coalesces a Sync now pressed during a run into one more run", async () => {
    const gate = deferred<void>();
    const calls = server(async () => {
      await gate.promise;
      return undefined;
    });
    await enqueueCreate({ content: "one" });
    const first = syncNow({ locks: null, pull: false });
    const second = syncNow({ locks: null, pull: false });
    const third = syncNow({ locks: null, pull: false });
    gate.resolve();
    await Promise.all([first, second, third]);
    expect(second).toBe(third);
    expect(calls).toHaveLength(1);
  });
});
