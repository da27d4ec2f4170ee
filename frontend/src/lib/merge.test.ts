import { describe, expect, it } from "vitest";
import { changedFields, editableOf, mergedTextDraft, sameValue, threeWayMerge, type Editable } from "./merge";
import { memory } from "../test/helpers";

const base: Editable = {
  content: "Buy flour and eggs",
  title: "Shopping",
  url: "",
  tags: ["errands"],
  kind: "task",
};

describe("threeWayMerge", () => {
  it("merges silently when the server changed only fields the user did not touch", () => {
    const mine = { ...base, content: "Buy flour, eggs and butter" };
    const theirs = { ...base, tags: ["errands", "food"], title: "Groceries" };

    const result = threeWayMerge(base, mine, theirs);

    expect(result.conflicts).toEqual([]);
    expect(result.merged).toEqual({ ...base, content: "Buy flour, eggs and butter", tags: ["errands", "food"], title: "Groceries" });
    // Only the user's field is sent: the server's copy already has the rest.
    expect(result.changes).toEqual({ content: "Buy flour, eggs and butter" });
  });

  it("is a conflict when both sides changed the same field to different values", () => {
    const mine = { ...base, content: "Buy flour and eggs today" };
    const theirs = { ...base, content: "Buy flour and milk" };

    const result = threeWayMerge(base, mine, theirs);

    expect(result.conflicts).toEqual(["content"]);
    expect(result.merged.content).toBe("Buy flour and eggs today");
    expect(result.changes).toEqual({ content: "Buy flour and eggs today" });
  });

  it("is no conflict when both sides made the same change", () => {
    const mine = { ...base, title: "Groceries " };
    const theirs = { ...base, title: "Groceries" };

    const result = threeWayMerge(base, mine, theirs);

    expect(result.conflicts).toEqual([]);
    expect(result.changes).toEqual({});
  });

  it("reports every conflicting field and keeps the server's other changes", () => {
    const mine = { ...base, title: "Mine", kind: "note" as const, tags: ["mine"] };
    const theirs = { ...base, title: "Theirs", kind: "idea" as const, url: "https://example.com/" };

    const result = threeWayMerge(base, mine, theirs);

    expect(result.conflicts).toEqual(["title", "kind"]);
    expect(result.merged.url).toBe("https://example.com/");
    expect(result.changes).toEqual({ title: "Mine", tags: ["mine"], kind: "note" });
  });

  it("sends nothing when the user changed nothing", () => {
    const theirs = { ...base, content: "Something else" };
    expect(threeWayMerge(base, { ...base }, theirs)).toEqual({ merged: theirs, changes: {}, conflicts: [] });
  });
});

describe("sameValue and changedFields", () => {
  it("compares tags without case or order, and text without outer spaces", () => {
    expect(sameValue("tags", ["B", "a"], ["a", "b"])).toBe(true);
    expect(sameValue("tags", ["a"], ["a", "b"])).toBe(false);
    expect(sameValue("content", " x ", "x")).toBe(true);
    expect(changedFields(base, { ...base, tags: ["Errands"], url: "https://x.org/" })).toEqual(["url"]);
  });

  it("reads the editable fields of a memory", () => {
    const m = memory("7d3c0f8e-0000-4000-8000-000000000009", "Text", { title: "T", tags: ["a"], kind: "idea" });
    expect(editableOf(m)).toEqual({ content: "Text", title: "T", url: m.url, tags: ["a"], kind: "idea" });
  });
});

describe("mergedTextDraft", () => {
  it("keeps the common lines once and both sides' own lines", () => {
    const theirs = "Intro\nServer line\nOutro";
    const mine = "Intro\nMy line\nOutro";
    expect(mergedTextDraft(theirs, mine)).toBe("Intro\nServer line\nMy line\nOutro");
  });

  it("is the text itself when both agree", () => {
    expect(mergedTextDraft("Same", "Same")).toBe("Same");
  });
});
