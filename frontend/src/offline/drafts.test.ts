import { beforeEach, describe, expect, it } from "vitest";
import { freshOfflineState } from "../test/offline";
import { closeOfflineDb } from "./db";
import { clearDraft, flushDrafts, flushDraftsOnPageHide, loadDraft, NEW_MEMORY_DRAFT, noteDraft, saveDraft } from "./drafts";

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
