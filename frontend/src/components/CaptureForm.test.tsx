import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { CaptureForm, toMemoryCreate } from "./CaptureForm";
import { json, memory, stubFetch } from "../test/helpers";
import { freshOfflineState, eventually } from "../test/offline";
import { loadDraft, NEW_MEMORY_DRAFT } from "../offline/drafts";
import { listEntries } from "../offline/queue";
import { replay } from "../offline/sync";

beforeEach(freshOfflineState);

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("toMemoryCreate", () => {
  it("sends only what was filled in, with tags as a list", () => {
    expect(toMemoryCreate({ content: "Text", title: " ", url: "", tags: "a, b ,a", kind: "idea", remindAt: "" })).toEqual({
      content: "Text",
      kind: "idea",
      tags: ["a", "b"],
    });
    expect(
      toMemoryCreate({ content: "Text", title: " T ", url: " https://example.com ", tags: "", kind: "link", remindAt: "" }),
    ).toEqual({ content: "Text", kind: "link", title: "T", url: "https://example.com" });
  });

  it("sends Remind me as a wall-clock time, which the server reads in the account's zone", () => {
    const fields = { content: "Text", title: "", url: "", tags: "", kind: "note" as const, remindAt: "2026-03-06T09:00" };
    expect(toMemoryCreate(fields)).toEqual({ content: "Text", kind: "note", remind_at: "2026-03-06T09:00:00" });
  });
});

async function fillAndSave(text: string) {
  const user = userEvent.setup();
  await user.type(screen.getByRole("textbox", { name: "Memory" }), text);
  await user.type(screen.getByRole("textbox", { name: "Tags" }), "plays, classics");
  await user.selectOptions(screen.getByRole("combobox", { name: "Kind" }), "quote");
  await user.click(screen.getByRole("button", { name: "Save" }));
  return user;
}

describe("CaptureForm", () => {
  it("queues the memory with the moment Save was pressed and clears the form at once, with no network", async () => {
    const calls = stubFetch(() => Promise.reject(new TypeError("Failed to fetch")));
    render(<CaptureForm />);
    const before = Date.now();
    await fillAndSave("To be");
    expect(screen.getByRole("textbox", { name: "Memory" })).toHaveValue("");
    await eventually(async () => expect(await listEntries()).toHaveLength(1));
    const [entry] = await listEntries();
    expect(entry).toMatchObject({
      operation: "create",
      state: "waiting",
      payload: { content: "To be", kind: "quote", tags: ["plays", "classics"] },
    });
    expect(Date.parse(entry!.created_at)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(entry!.created_at)).toBeLessThanOrEqual(Date.now());
    expect(calls).toHaveLength(0); // the form itself never sends: the replay does
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
  });

  it("lets the replay send it with its Idempotency-Key and created_at", async () => {
    const calls = stubFetch(() => json({ ...memory("m1", "To be"), duplicate: false }, 201));
    render(<CaptureForm />);
    await fillAndSave("To be");
    await eventually(async () => expect(await listEntries()).toHaveLength(1));
    const [entry] = await listEntries();
    await replay({ locks: null });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.headers.get("Idempotency-Key")).toBe(entry!.key);
    expect(calls[0]!.body).toEqual({ content: "To be", kind: "quote", tags: ["plays", "classics"], created_at: entry!.created_at });
    expect(await listEntries()).toHaveLength(0);
  });

  it("says so when the server already had the memory", async () => {
    stubFetch(() => json({ ...memory("m1", "To be"), duplicate: true }, 200));
    render(<CaptureForm />);
    await fillAndSave("To be");
    await eventually(async () => expect(await listEntries()).toHaveLength(1));
    await replay({ locks: null });
    expect(await screen.findByText("You had already saved this.")).toBeInTheDocument();
  });

  it("keeps what is typed as a draft that comes back, and clears it on Save", async () => {
    stubFetch(() => Promise.reject(new TypeError("Failed to fetch")));
    const first = render(<CaptureForm />);
    const user = userEvent.setup();
    await user.type(screen.getByRole("textbox", { name: "Memory" }), "Half a thought");
    await user.type(screen.getByRole("textbox", { name: "Title" }), "Draft");
    await eventually(async () => expect((await loadDraft(NEW_MEMORY_DRAFT))?.title).toBe("Draft"), { timeout: 3000 });
    first.unmount();

    render(<CaptureForm />);
    await eventually(() => expect(screen.getByRole("textbox", { name: "Memory" })).toHaveValue("Half a thought"));
    expect(screen.getByRole("textbox", { name: "Title" })).toHaveValue("Draft");
    await user.click(screen.getByRole("button", { name: "Save" }));
    await eventually(async () => expect(await loadDraft(NEW_MEMORY_DRAFT)).toBeNull());
  });

  it("asks the browser to keep its storage after the first save, once", async () => {
    localStorage.clear();
    stubFetch(() => Promise.reject(new TypeError("Failed to fetch")));
    const persist = vi.fn(async () => true);
    vi.stubGlobal("navigator", Object.assign(Object.create(navigator), { storage: { persist } }));
    render(<CaptureForm />);
    await fillAndSave("One");
    await eventually(() => expect(persist).toHaveBeenCalledTimes(1));
    await fillAndSave("Two");
    await eventually(async () => expect(await listEntries()).toHaveLength(2));
    expect(persist).toHaveBeenCalledTimes(1);
  });
});
