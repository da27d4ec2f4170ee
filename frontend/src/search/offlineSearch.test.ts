import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { offlineDb } from "../offline/db";
import { emit } from "../offline/events";
import { memory } from "../test/helpers";
import { freshOfflineState } from "../test/offline";
import { offlineSearchRunsIn, REFRESH_EVERY_MS, searchOffline, stopOfflineSearch } from "./offlineSearch";
import type { FromWorker, ToWorker } from "./protocol";

beforeEach(async () => {
  await freshOfflineState();
  await (await offlineDb()).put("memories", memory("s1", "Tomato soup with basil"));
});
afterEach(() => {
  stopOfflineSearch();
  vi.unstubAllGlobals();
});

/** A stand-in for the search worker: records what the page posts and answers searches. */
class FakeWorker extends EventTarget {
  static instances: FakeWorker[] = [];
  static fail = false;
  posted: ToWorker[] = [];
  constructor(
    public url: URL,
    public options: WorkerOptions,
  ) {
    super();
    FakeWorker.instances.push(this);
    if (FakeWorker.fail) setTimeout(() => this.dispatchEvent(new Event("error", { cancelable: true })), 0);
  }
  postMessage(message: ToWorker) {
    this.posted.push(message);
    if (message.type === "search" && !FakeWorker.fail) {
      const answer: FromWorker = { type: "results", id: message.id, hits: [], total: 7, indexed: 42 };
      setTimeout(() => this.dispatchEvent(new MessageEvent("message", { data: answer })), 0);
    }
  }
  terminate() {}
}

describe("offline search on the page's side", () => {
  beforeEach(() => {
    FakeWorker.instances = [];
    FakeWorker.fail = false;
  });

  it("runs the index on the page where Web Workers are missing", async () => {
    vi.stubGlobal("Worker", undefined);
    const answer = await searchOffline("soup");
    expect(offlineSearchRunsIn()).toBe("page");
    expect(answer.hits.map((hit) => hit.memory.id)).toEqual(["s1"]);
    expect(answer.ms).toBeGreaterThanOrEqual(0);
  });

  it("asks one module worker, and times the round trip", async () => {
    vi.stubGlobal("Worker", FakeWorker);
    const answer = await searchOffline("soup", 5);
    expect(offlineSearchRunsIn()).toBe("worker");
    expect(FakeWorker.instances).toHaveLength(1);
    expect(FakeWorker.instances[0]!.options).toEqual({ type: "module" });
    expect(FakeWorker.instances[0]!.posted).toEqual([{ type: "search", id: 1, query: "soup", limit: 5 }]);
    expect(answer).toMatchObject({ total: 7, indexed: 42 });
    await searchOffline("basil");
    expect(FakeWorker.instances).toHaveLength(1);
  });

  it("tells the worker about changes at most every few hundred ms, and before the next query", async () => {
    vi.stubGlobal("Worker", FakeWorker);
    await searchOffline("soup");
    const worker = FakeWorker.instances[0]!;
    for (let i = 0; i < 20; i++) emit({ type: "queue" });
    emit({ type: "copy" });
    expect(worker.posted.filter((m) => m.type === "refresh")).toHaveLength(0);
    await new Promise((resolve) => setTimeout(resolve, REFRESH_EVERY_MS + 100));
    expect(worker.posted.filter((m) => m.type === "refresh")).toHaveLength(1);

    emit({ type: "queue" });
    await searchOffline("soup");
    expect(worker.posted.slice(-2).map((m) => m.type)).toEqual(["refresh", "search"]);
  });

  it("falls back to the page when the worker cannot load, and still answers", async () => {
    FakeWorker.fail = true;
    vi.stubGlobal("Worker", FakeWorker);
    const answer = await searchOffline("soup");
    expect(offlineSearchRunsIn()).toBe("page");
    expect(answer.hits.map((hit) => hit.memory.id)).toEqual(["s1"]);
  });
});
