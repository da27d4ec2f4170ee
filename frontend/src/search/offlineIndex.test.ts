import { beforeEach, describe, expect, it } from "vitest";
import type { Memory } from "../api/client";
import type { OfflineMemory } from "../offline/copy";
import { offlineDb } from "../offline/db";
import { enqueueCreate, enqueueDelete, enqueueUpdate } from "../offline/queue";
import { memory } from "../test/helpers";
import { freshOfflineState } from "../test/offline";
import { createSearchEngine } from "./engine";
import { makeSnippet, OfflineIndex } from "./offlineIndex";

function row(id: string, content: string, extra: Partial<Memory> = {}): OfflineMemory {
  return { ...memory(id, content, extra), pending: null };
}

const ids = (index: OfflineIndex, query: string) => index.search(query).hits.map((hit) => hit.memory.id);

describe("the offline index", () => {
  it("finds memories by title, content, tags and link, by prefix and with a typo", () => {
    const index = new OfflineIndex();
    index.apply([
      row("t", "nothing here", { title: "Sourdough starter" }),
      row("c", "The bicycle shop on Elm street fixes wheels"),
      row("g", "plain words", { tags: ["gardening"] }),
      row("u", "a page", { url: "https://example.org/kubernetes-guide" }),
    ]);
    expect(ids(index, "sourdough")).toEqual(["t"]);
    expect(ids(index, "bicycle")).toEqual(["c"]);
    expect(ids(index, "gardening")).toEqual(["g"]);
    expect(ids(index, "kubernetes")).toEqual(["u"]);
    // The word being typed, and a typo.
    expect(ids(index, "bicy")).toEqual(["c"]);
    expect(ids(index, "bicyle")).toEqual(["c"]);
    expect(ids(index, "wheals")).toEqual(["c"]);
    expect(ids(index, "garednign")).toEqual([]);
  });

  it("ranks a title or tag match above the same word in the text", () => {
    const index = new OfflineIndex();
    index.apply([
      row("text", "notes about python and other snakes"),
      row("title", "unrelated body", { title: "Python" }),
      row("tag", "something else", { tags: ["python"] }),
    ]);
    const found = ids(index, "python");
    expect(found.slice(0, 2).sort()).toEqual(["tag", "title"]);
    expect(found[2]).toBe("text");
  });

  it("wants every word, and falls back to any word when no memory has them all", () => {
    const index = new OfflineIndex();
    index.apply([row("a", "red apple pie"), row("b", "green apple"), row("c", "red wine")]);
    expect(ids(index, "red apple")).toEqual(["a"]);
    expect(ids(index, "apple wine").sort()).toEqual(["a", "b", "c"]);
  });

  it("ignores case and accents", () => {
    const index = new OfflineIndex();
    index.apply([row("a", "Un café à Montréal")]);
    expect(ids(index, "CAFE montreal")).toEqual(["a"]);
  });

  it("updates only what changed, and forgets removed memories", () => {
    const index = new OfflineIndex();
    expect(index.apply([row("a", "alpha"), row("b", "bravo")])).toEqual({ added: 2, updated: 0, removed: 0 });
    expect(index.apply([row("a", "alpha"), row("b", "bravo")])).toEqual({ added: 0, updated: 0, removed: 0 });
    const changed = index.apply([row("a", "alpha"), row("b", "charlie"), row("c", "delta")]);
    expect(changed).toEqual({ added: 1, updated: 1, removed: 0 });
    expect(ids(index, "bravo")).toEqual([]);
    expect(ids(index, "charlie")).toEqual(["b"]);
    expect(index.apply([row("b", "charlie")])).toEqual({ added: 0, updated: 0, removed: 2 });
    expect(ids(index, "alpha")).toEqual([]);
    expect(index.size).toBe(1);
  });

  it("keeps a row's new state for display without indexing it again", () => {
    const index = new OfflineIndex();
    index.apply([{ ...row("a", "alpha"), pending: "waiting" }]);
    const result = index.apply([{ ...row("a", "alpha", { version: 2 }), pending: null }]);
    expect(result).toEqual({ added: 0, updated: 0, removed: 0 });
    const hit = index.search("alpha").hits[0]!;
    expect(hit.memory.pending).toBeNull();
    expect(hit.memory.version).toBe(2);
  });

  it("answers at most `limit` hits and says how many matched, equal scores newest first", () => {
    const index = new OfflineIndex();
    const rows = Array.from({ length: 30 }, (_, i) =>
      row(`m${i}`, "same words", { created_at: `2026-11-${String(i % 28 + 1).padStart(2, "0")}T08:00:00Z` }),
    );
    index.apply(rows);
    const answer = index.search("same", 5);
    expect(answer.total).toBe(30);
    expect(answer.hits).toHaveLength(5);
    const dates = answer.hits.map((hit) => hit.memory.created_at);
    expect(dates).toEqual([...dates].sort().reverse());
    expect(index.search("   ").hits).toEqual([]);
  });

  it("marks the matched words in an escaped snippet around the first match", () => {
    expect(makeSnippet("Fish & <chips> for dinner", new Set(["chips"]))).toBe(
      "Fish &amp; &lt;<mark>chips</mark>&gt; for dinner",
    );
    const long = `${"filler ".repeat(60)}needle and more ${"tail ".repeat(60)}`;
    const snippet = makeSnippet(long, new Set(["needle"]), 100);
    expect(snippet.startsWith("…")).toBe(true);
    expect(snippet.endsWith("…")).toBe(true);
    expect(snippet).toContain("<mark>needle</mark>");
    expect(snippet.length).toBeLessThan(140);
    const index = new OfflineIndex();
    index.apply([row("a", "Riding my Bicycle home")]);
    expect(index.search("bicy").hits[0]!.snippet).toBe("Riding my <mark>Bicycle</mark> home");
  });
});

describe("the search engine over the device copy", () => {
  beforeEach(freshOfflineState);

  async function putCopy(...rows: Memory[]) {
    const db = await offlineDb();
    for (const memoryRow of rows) await db.put("memories", memoryRow);
  }

  it("builds the index from the copy with the queue on top, and follows it on refresh", async () => {
    await putCopy(memory("s1", "tomato soup recipe"), memory("s2", "bicycle repair"));
    const engine = createSearchEngine();
    const first = await engine.search("tomato", 20);
    expect(first.hits.map((hit) => hit.memory.id)).toEqual(["s1"]);
    expect(first.indexed).toBe(2);

    const queued = await enqueueCreate({ content: "tomato seedlings to plant" });
    await enqueueUpdate(memory("s2", "bicycle repair"), { content: "bicycle tyres" });
    await enqueueDelete("s1");
    await engine.refresh();
    const after = await engine.search("tomato", 20);
    expect(after.hits.map((hit) => [hit.memory.id, hit.memory.pending])).toEqual([[queued.memoryId, "waiting"]]);
    expect((await engine.search("tyres", 20)).hits.map((hit) => hit.memory.id)).toEqual(["s2"]);
    expect((await engine.search("repair", 20)).hits).toEqual([]);
  });

  it("shares one read between refreshes asked while one runs", async () => {
    let reads = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const engine = createSearchEngine(async () => {
      reads++;
      await gate;
      return [row("a", "alpha")];
    });
    const runs = [engine.refresh()];
    await Promise.resolve();
    await Promise.resolve();
    expect(reads).toBe(1);
    runs.push(engine.refresh(), engine.refresh());
    release();
    await Promise.all(runs);
    // One run started at once; the two asked meanwhile share the one after it.
    expect(reads).toBe(2);
    expect((await engine.search("alpha", 5)).hits).toHaveLength(1);
  });

  it("answers a query asked right after a change with the change in it", async () => {
    let rows = [row("a", "alpha")];
    const engine = createSearchEngine(async () => rows);
    await engine.warm();
    rows = [row("a", "alpha"), row("b", "alphabet soup")];
    void engine.refresh();
    const answer = await engine.search("alpha", 5);
    expect(answer.hits.map((hit) => hit.memory.id).sort()).toEqual(["a", "b"]);
  });

  it("tries the first build again when reading the copy failed", async () => {
    let fail = true;
    const engine = createSearchEngine(async () => {
      if (fail) throw new Error("IndexedDB unavailable");
      return [row("a", "alpha")];
    });
    await expect(engine.search("alpha", 5)).rejects.toThrow("IndexedDB unavailable");
    fail = false;
    expect((await engine.search("alpha", 5)).hits).toHaveLength(1);
  });
});
