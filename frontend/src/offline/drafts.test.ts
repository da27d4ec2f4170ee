import { beforeEach, describe, expect, it } from "vitest";
import { freshOfflineState } from "../test/offline";
import { closeOfflineDb } from "./db";
import { clearDraft, flushDrafts, flushDraftsOnPageHide, forgetPageHideDrafts, loadDraft, NEW_MEMORY_DRAFT, noteDraft, saveDraft } from "./drafts";

beforeEach(freshOfflineState);

describe("drafts", () => {
  it("come back after a reload", async () => {
    await saveDraft(NEW_MEMORY_DRAFT, { content: "half a thought", tags: "ideas" });
    await closeOfflineDb();

    expect(await loadDraft(NEW_MEMORY_DRAFT)).toEqual({ content: "half a thought", tags: "ideas" });
    expect(await loadDraft("m1")).toBeNull();
  });

  it("are gone once cleared", async () => {
    await saveDraft("m1", { content: "edit" });
    await clearDraft("m1");
    expect(await loadDraft("m1")).toBeNull();
  });

  it("keep what the debounce still held when the page is hidden", async () => {
    const stop = flushDraftsOnPageHide();
    await saveDraft(NEW_MEMORY_DRAFT, { content: "half" });
    noteDraft(NEW_MEMORY_DRAFT, { content: "half a thought" });

    window.dispatchEvent(new Event("pagehide"));
    await flushDrafts();
    await closeOfflineDb();

    expect(await loadDraft(NEW_MEMORY_DRAFT)).toEqual({ content: "half a thought" });
    stop();
  });

  it("forget a noted draft when cleared", async () => {
    noteDraft("m2", { title: "t" });
    await clearDraft("m2");
    await flushDrafts();
    expect(await loadDraft("m2")).toBeNull();
  });
});

describe("drafts written on pagehide", () => {
  it("are kept in localStorage at once, since an IndexedDB write may not land as the page goes", async () => {
    noteDraft("new", { content: "typed just before the reload" });
    const flushing = flushDrafts(1000);
    // Synchronously stored: what survives a reload even if the IndexedDB write is dropped.
    expect(JSON.parse(localStorage.getItem("mc-draft:new") ?? "null")).toEqual({
      fields: { content: "typed just before the reload" },
      saved_at: 1000,
    });
    await flushing;
    expect(localStorage.getItem("mc-draft:new")).toBeNull(); // IndexedDB has it now
    expect(await loadDraft("new")).toEqual({ content: "typed just before the reload" });
  });

  it("come back from localStorage when the IndexedDB write was lost, and the newer wins", async () => {
    await saveDraft("m1", { content: "older, in IndexedDB" }, 1000);
    localStorage.setItem("mc-draft:m1", JSON.stringify({ fields: { content: "newer" }, saved_at: 2000 }));
    expect(await loadDraft("m1")).toEqual({ content: "newer" });
    localStorage.setItem("mc-draft:m1", JSON.stringify({ fields: { content: "stale" }, saved_at: 500 }));
    expect(await loadDraft("m1")).toEqual({ content: "older, in IndexedDB" });
    await clearDraft("m1");
    expect(localStorage.getItem("mc-draft:m1")).toBeNull();
    expect(await loadDraft("m1")).toBeNull();
  });

  it("are forgotten on sign-out", () => {
    localStorage.setItem("mc-draft:new", JSON.stringify({ fields: { content: "x" }, saved_at: 1 }));
    localStorage.setItem("other", "kept");
    forgetPageHideDrafts();
    expect(localStorage.getItem("mc-draft:new")).toBeNull();
    expect(localStorage.getItem("other")).toBe("kept");
  });
});
