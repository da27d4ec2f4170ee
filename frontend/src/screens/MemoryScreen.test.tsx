import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter, Route, Routes } from "react-router";
import { MemoryScreen } from "./MemoryScreen";
import { NoticeProvider } from "../components/Notice";
import { onRestored } from "../lib/memoryEvents";
import { WithSession } from "../test/session";
import { json, memory, problem, stubFetch, versionConflict, type Call } from "../test/helpers";
import { freshOfflineState, eventually } from "../test/offline";
import { putInCopy } from "../offline/copy";
import { saveDraft } from "../offline/drafts";
import { enqueueCreate, enqueueUpdate, listEntries } from "../offline/queue";
import { replay, syncNow } from "../offline/sync";

const ID = "7d3c0f8e-0000-4000-8000-00000000000a";
const original = memory(ID, "Buy flour and eggs", { title: "Shopping", version: 2, tags: ["errands"] });

beforeEach(freshOfflineState);

afterEach(async () => {
  cleanup();
  // A replay this test started ends with this test's server, never in the next one.
  await syncNow({ pull: false }).catch(() => undefined);
  vi.unstubAllGlobals();
});

function renderScreen(onUnauthorized = vi.fn(), id = ID) {
  render(
    <MemoryRouter initialEntries={[`/memories/${id}`]}>
      <WithSession>
        <NoticeProvider>
          <Routes>
            <Route path="/memories/:id" element={<MemoryScreen onUnauthorized={onUnauthorized} />} />
            <Route path="/" element={<p>The list</p>} />
          </Routes>
        </NoticeProvider>
      </WithSession>
    </MemoryRouter>,
  );
  return onUnauthorized;
}


/** Answers GET with `original`, and each PATCH with the next of `patches`. */
function server(patches: Response[]) {
  return stubFetch((url, init) => {
    if (url.endsWith("/reminders") || url.endsWith("/related")) return json([]);
    if (url.startsWith("/api/v1/memories/changes")) return problem(503, "unavailable", "Later.");
    if ((init.method ?? "GET") === "GET") return json(original);
    const next = patches.shift();
    if (!next) throw new Error("unexpected request");
    return next;
  });
}

const patches = (calls: Call[]) => calls.filter((call) => call.init.method === "PATCH");

async function editContent(text: string) {
  const user = userEvent.setup();
  await user.click(await screen.findByRole("button", { name: "Edit" }));
  const box = screen.getByRole("textbox", { name: "Memory" });
  await user.clear(box);
  await user.type(box, text);
  await user.click(screen.getByRole("button", { name: "Save changes" }));
  await eventually(async () => expect((await listEntries()).length).toBeGreaterThan(0));
  return user;
}

const sync = () => replay({ locks: null });
const offline = () => stubFetch(() => Promise.reject(new TypeError("Failed to fetch")));

describe("MemoryScreen", () => {
  it("shows the memory, queues an edit with If-Match its version and closes the form at once", async () => {
    const calls = server([json({ ...original, content: "Buy flour and butter", version: 3 })]);
    renderScreen();
    expect(await screen.findByRole("heading", { name: "Shopping" })).toBeInTheDocument();
    expect(screen.getByText("Buy flour and eggs")).toBeInTheDocument();

    await editContent("Buy flour and butter");

    expect(await screen.findByText("Buy flour and butter")).toBeInTheDocument();
    expect(screen.getByText("Waiting to sync")).toBeInTheDocument();
    expect(screen.queryByRole("textbox", { name: "Memory" })).not.toBeInTheDocument();
    expect(patches(calls)).toHaveLength(0);

    await sync();
    const [patch] = patches(calls);
    expect(patch!.headers.get("If-Match")).toBe('"2"');
    expect(patch!.body).toEqual({ content: "Buy flour and butter" });
    await eventually(() => expect(screen.queryByText("Waiting to sync")).not.toBeInTheDocument());
    expect(screen.getByText("3")).toBeInTheDocument(); // the version the server answered
  });

  it("opens from the device's copy with no network, and a memory not sent yet too", async () => {
    await putInCopy(original);
    offline();
    renderScreen();
    expect(await screen.findByRole("heading", { name: "Shopping" })).toBeInTheDocument();
    cleanup();

    const entry = await enqueueCreate({ content: "Written on the train", kind: "idea" });
    renderScreen(vi.fn(), entry.memoryId);
    expect(await screen.findByRole("heading", { name: "Written on the train" })).toBeInTheDocument();
    expect(screen.getByText("Waiting to sync")).toBeInTheDocument();
  });

  it("opens Edit conflict when the replay meets a change of the same text; Keep theirs takes the server copy", async () => {
    const theirs = { ...original, content: "Buy flour and milk", version: 3 };
    const calls = server([versionConflict(theirs)]);
    renderScreen();
    const user = await editContent("Buy flour and eggs today");
    await sync();

    const dialog = await screen.findByRole("dialog", { name: "Edit conflict" });
    // Both versions side by side, the differences marked.
    expect(within(dialog).getByRole("region", { name: "Your version" })).toHaveTextContent("Buy flour and eggs today");
    expect(within(dialog).getByRole("region", { name: "Their version" })).toHaveTextContent("Buy flour and milk");
    expect(dialog.querySelector("ins")?.textContent).toContain("eggs");
    expect(dialog.querySelector("del")?.textContent).toContain("milk");

    await user.click(within(dialog).getByRole("button", { name: "Keep theirs" }));

    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
    expect(await screen.findByText("Buy flour and milk")).toBeInTheDocument();
    expect(await listEntries()).toHaveLength(0);
    expect(patches(calls)).toHaveLength(1);
  });

  it("Keep mine queues the user's text with If-Match the server's version", async () => {
    const theirs = { ...original, content: "Buy flour and milk", version: 3 };
    const kept = { ...theirs, content: "Buy flour and eggs today", version: 4 };
    const calls = server([versionConflict(theirs), json(kept)]);
    renderScreen();
    const user = await editContent("Buy flour and eggs today");
    await sync();

    await user.click(await screen.findByRole("button", { name: "Keep mine" }));

    await eventually(() => expect(patches(calls)).toHaveLength(2));
    expect(await screen.findByText("Buy flour and eggs today")).toBeInTheDocument();
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
    const second = patches(calls)[1]!;
    expect(second.headers.get("If-Match")).toBe('"3"');
    expect(second.body).toEqual({ content: "Buy flour and eggs today" });
    await eventually(async () => expect(await listEntries()).toHaveLength(0));
  });

  it("Merge lets the user write the text, then queues it on the server's version", async () => {
    const theirs = { ...original, content: "Buy flour and milk", version: 3 };
    const calls = server([versionConflict(theirs), json({ ...theirs, content: "Buy flour, milk and eggs", version: 4 })]);
    renderScreen();
    const user = await editContent("Buy flour and eggs today");
    await sync();

    await user.click(await screen.findByRole("button", { name: "Merge" }));
    const editor = screen.getByRole("textbox", { name: "Merged text" });
    expect(editor).toHaveValue("Buy flour and milk\nBuy flour and eggs today");
    await user.clear(editor);
    await user.type(editor, "Buy flour, milk and eggs");
    await user.click(screen.getByRole("button", { name: "Save merge" }));

    expect(await screen.findByText("Buy flour, milk and eggs")).toBeInTheDocument();
    await eventually(() => expect(patches(calls)).toHaveLength(2));
    const second = patches(calls)[1]!;
    expect(second.headers.get("If-Match")).toBe('"3"');
    expect(second.body).toEqual({ content: "Buy flour, milk and eggs" });
  });

  it("opens Edit conflict for a conflict the replay parked before the memory was opened", async () => {
    const theirs = { ...original, content: "Buy flour and milk", version: 3 };
    server([versionConflict(theirs)]);
    await putInCopy(original);
    await enqueueUpdate(original, { content: "Buy flour and eggs today" });
    await sync();
    renderScreen();
    expect(await screen.findByRole("dialog", { name: "Edit conflict" })).toBeInTheDocument();
  });

  it("deletes through the queue; Undo before it was sent takes the delete back", async () => {
    const calls = server([]);
    renderScreen();
    const user = userEvent.setup();

    await user.click(await screen.findByRole("button", { name: "Delete" }));

    expect(await screen.findByText("The list")).toBeInTheDocument();
    const notice = screen.getByRole("status", { name: "Notice" });
    expect(notice).toHaveTextContent("Deleted “Shopping”.");
    expect(await listEntries()).toMatchObject([{ operation: "delete", memoryId: ID }]);
    await user.click(within(notice).getByRole("button", { name: "Undo" }));

    expect(await within(notice).findByText("Restored “Shopping”.")).toBeInTheDocument();
    expect(await listEntries()).toHaveLength(0);
    expect(calls.filter((call) => call.init.method === "DELETE" || call.url.endsWith("/restore"))).toHaveLength(0);
  });

  it("Undo of a delete the server already ran restores it there", async () => {
    const calls = stubFetch((url, init) => {
      if (init.method === "DELETE") return new Response(null, { status: 204 });
      if (url.endsWith("/restore")) return json({ ...original, version: 4 });
      if (url.endsWith("/reminders") || url.endsWith("/related")) return json([]);
      if (url.startsWith("/api/v1/memories/changes")) return problem(503, "unavailable", "Later.");
      return json(original);
    });
    const restored = vi.fn();
    const stop = onRestored(restored);
    renderScreen();
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Delete" }));
    expect(await screen.findByText("The list")).toBeInTheDocument();
    await sync();

    const notice = screen.getByRole("status", { name: "Notice" });
    await user.click(within(notice).getByRole("button", { name: "Undo" }));

    expect(await within(notice).findByText("Restored “Shopping”.")).toBeInTheDocument();
    expect(restored).toHaveBeenCalledWith(expect.objectContaining({ id: ID, version: 4 }));
    expect(calls.map((call) => `${call.init.method ?? "GET"} ${call.url}`).filter((c) => !c.includes("changes"))).toEqual([
      `GET /api/v1/memories/${ID}`,
      `GET /api/v1/memories/${ID}/reminders`,
      `GET /api/v1/memories/${ID}/related`,
      `DELETE /api/v1/memories/${ID}`,
      `POST /api/v1/memories/${ID}/restore`,
    ]);
    stop();
  });

  it("says so when the memory does not exist, and signs out on 401", async () => {
    stubFetch(() => problem(404, "not_found", "Not found."));
    renderScreen();
    expect(await screen.findByRole("heading", { name: "Memory not found" })).toBeInTheDocument();
    cleanup();

    stubFetch(() => problem(401, "not_authenticated", "Sign in."));
    const onUnauthorized = renderScreen();
    await eventually(() => expect(onUnauthorized).toHaveBeenCalled());
  });

  it("shows Needs attention with the server's reason when an edit is refused, and can discard it", async () => {
    server([problem(409, "duplicate_content", "Another memory already has this content.")]);
    renderScreen();
    const user = await editContent("Same as another");
    await sync();
    expect(await screen.findByText("Needs attention")).toBeInTheDocument();
    expect(screen.getByText("Another memory already has this content.")).toBeInTheDocument();
    expect(screen.getByText("Same as another")).toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: "Discard change" }));
    expect(await screen.findByText("Buy flour and eggs")).toBeInTheDocument();
    expect(await listEntries()).toHaveLength(0);
  });

  it("brings an unsaved edit back as a draft", async () => {
    await putInCopy(original);
    await saveDraft(ID, { content: "Buy flour and eggs and", title: "Shopping", url: "", tags: "errands", kind: "note" });
    offline();
    renderScreen();
    expect(await screen.findByRole("textbox", { name: "Memory" })).toHaveValue("Buy flour and eggs and");
  });

  it("lists related memories with a link and an excerpt, and shows nothing when there are none", async () => {
    const alike = memory("m-alike", "Buy flour, eggs and sugar for the cake on Sunday", { title: "Baking" });
    const twin = memory("m-twin", "Buy flour and eggs!");
    stubFetch((url) => {
      if (url.endsWith("/reminders")) return json([]);
      if (url.endsWith("/related"))
        return json([
          { memory: twin, similarity: 0.98, near_duplicate: true },
          { memory: alike, similarity: 0.8, near_duplicate: false },
        ]);
      return json(original);
    });
    renderScreen();

    const list = await screen.findByRole("list", { name: "Related memories" });
    const rows = within(list).getAllByRole("listitem");
    expect(rows).toHaveLength(2);
    expect(within(rows[0]!).getByRole("link", { name: "Buy flour and eggs!" })).toHaveAttribute("href", "/memories/m-twin");
    expect(rows[0]).toHaveTextContent("Possible duplicate");
    expect(within(rows[1]!).getByRole("link", { name: "Baking" })).toHaveAttribute("href", "/memories/m-alike");
    expect(rows[1]).toHaveTextContent("Buy flour, eggs and sugar for the cake on Sunday");
    expect(rows[1]).not.toHaveTextContent("Possible duplicate");
    cleanup();

    const calls = server([]);
    renderScreen();
    expect(await screen.findByRole("heading", { name: "Shopping" })).toBeInTheDocument();
    await eventually(() => expect(calls.some((call) => call.url.endsWith("/related"))).toBe(true));
    expect(screen.queryByRole("heading", { name: "Related memories" })).not.toBeInTheDocument();
  });
});
