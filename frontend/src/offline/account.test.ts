import { beforeEach, describe, expect, it } from "vitest";
import { freshOfflineState } from "../test/offline";
import { memory } from "../test/helpers";
import { claimDevice, forgetCopy } from "./account";
import { putInCopy, readCopy } from "./copy";
import { loadDraft, saveDraft } from "./drafts";
import { enqueueCreate, listEntries } from "./queue";

beforeEach(freshOfflineState);

describe("claimDevice", () => {
  it("keeps what the first account saved before it was known", async () => {
    await enqueueCreate({ content: "Mine", kind: "note" });
    expect(await claimDevice(1)).toBe(false);
    expect(await listEntries()).toHaveLength(1);
    expect(await claimDevice(1)).toBe(false);
    expect(await listEntries()).toHaveLength(1);
  });

  it("wipes another account's copy, queue and drafts", async () => {
    await claimDevice(1);
    await putInCopy(memory("m1", "Account one's"));
    await enqueueCreate({ content: "Not sent", kind: "note" });
    await saveDraft("new", { content: "Typing" });
    expect(await claimDevice(2)).toBe(true);
    expect(await readCopy()).toEqual([]);
    expect(await listEntries()).toEqual([]);
    expect(await loadDraft("new")).toBeNull();
  });
});

describe("forgetCopy", () => {
  it("drops the copy and drafts on sign-out but keeps the saves not sent for the same account", async () => {
    await claimDevice(1);
    await putInCopy(memory("m1", "Synced"));
    await enqueueCreate({ content: "Not sent", kind: "note" });
    await saveDraft("new", { content: "Typing" });
    await forgetCopy();
    expect((await readCopy()).map((m) => m.content)).toEqual(["Not sent"]);
    expect(await loadDraft("new")).toBeNull();
    expect(await claimDevice(1)).toBe(false);
    expect(await listEntries()).toHaveLength(1);
  });
});
