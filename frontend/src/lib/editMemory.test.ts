import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../api/client";
import { saveEdit } from "./editMemory";
import { editableOf } from "./merge";
import { json, memory, stubFetch, versionConflict } from "../test/helpers";

const ID = "7d3c0f8e-0000-4000-8000-000000000001";
const base = memory(ID, "Buy flour and eggs", { version: 3, tags: ["errands"] });


afterEach(() => vi.unstubAllGlobals());

describe("saveEdit", () => {
  it("sends only the changed fields, with If-Match the version the edit started from", async () => {
    const saved = { ...base, content: "Buy flour, eggs and butter", version: 4 };
    const calls = stubFetch(() => json(saved));

    const outcome = await saveEdit(base, { ...editableOf(base), content: "Buy flour, eggs and butter" });

    expect(outcome).toEqual({ kind: "saved", memory: saved });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.init.method).toBe("PATCH");
    expect(calls[0]!.url).toBe(`/api/v1/memories/${ID}`);
    expect(calls[0]!.headers.get("If-Match")).toBe('"3"');
    expect(calls[0]!.headers.get("Idempotency-Key")).toBeTruthy();
    expect(calls[0]!.body).toEqual({ content: "Buy flour, eggs and butter" });
  });

  it("merges by itself when the server changed only fields the user did not touch", async () => {
    // AI enrichment added a tag and a summary meanwhile (version 4).
    const theirs = { ...base, tags: ["errands", "food"], summary: "Groceries", version: 4 };
    const merged = { ...theirs, content: "Buy flour and butter", version: 5 };
    const calls = stubFetch((_url, init) =>
      new Headers(init.headers).get("If-Match") === '"3"' ? versionConflict(theirs) : json(merged),
    );

    const outcome = await saveEdit(base, { ...editableOf(base), content: "Buy flour and butter" });

    expect(outcome).toEqual({ kind: "saved", memory: merged });
    expect(calls.map((call) => call.headers.get("If-Match"))).toEqual(['"3"', '"4"']);
    expect(calls[1]!.body).toEqual({ content: "Buy flour and butter" });
    expect(calls[0]!.headers.get("Idempotency-Key")).not.toBe(calls[1]!.headers.get("Idempotency-Key"));
  });

  it("asks the user when both sides changed the same field", async () => {
    const theirs = { ...base, content: "Buy flour and milk", version: 4 };
    const calls = stubFetch(() => versionConflict(theirs));
    const mine = { ...editableOf(base), content: "Buy flour and eggs today" };

    const outcome = await saveEdit(base, mine);

    expect(outcome).toEqual({ kind: "conflict", base: editableOf(base), mine, theirs, fields: ["content"] });
    expect(calls).toHaveLength(1);
  });

  it("needs no second request when the server already has the user's change", async () => {
    const theirs = { ...base, content: "Buy flour and butter", version: 4 };
    const calls = stubFetch(() => versionConflict(theirs));

    const outcome = await saveEdit(base, { ...editableOf(base), content: "Buy flour and butter" });

    expect(outcome).toEqual({ kind: "saved", memory: theirs });
    expect(calls).toHaveLength(1);
  });

  it("sends nothing when nothing changed, and passes other errors on", async () => {
    const calls = stubFetch(() => json({}, 500));
    expect(await saveEdit(base, editableOf(base))).toEqual({ kind: "saved", memory: base });
    expect(calls).toHaveLength(0);
    const error = await saveEdit(base, { ...editableOf(base), title: "New" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(500);
  });
});
