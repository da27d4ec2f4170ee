import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { MemoriesScreen } from "./MemoriesScreen";
import { json, memory, problem, stubFetch } from "../test/helpers";
import { freshOfflineState, eventually } from "../test/offline";
import { WithSession } from "../test/session";
import { putInCopy } from "../offline/copy";
import { offlineDb } from "../offline/db";
import { listEntries } from "../offline/queue";
import { replay, syncNow } from "../offline/sync";

beforeEach(freshOfflineState);

afterEach(async () => {
  cleanup();
  // A replay this test started ends with this test's server, never in the next one.
  await syncNow({ pull: false }).catch(() => undefined);
  vi.unstubAllGlobals();
});

function renderList() {
  render(
    <MemoryRouter>
      <WithSession>
        <MemoriesScreen />
      </WithSession>
    </MemoryRouter>,
  );
  return screen.getByRole("list", { name: "Memories" });
}

async function capture(text: string) {
  const user = userEvent.setup();
  await user.type(screen.getByRole("textbox", { name: "Memory" }), text);
  await user.click(screen.getByRole("button", { name: "Save" }));
  await eventually(async () => expect((await listEntries()).some((e) => e.payload && "content" in e.payload && e.payload.content === text)).toBe(true));
  return user;
}

describe("MemoriesScreen", () => {
  it("lists the device's copy, newest first, with the saves not sent yet on top", async () => {
    await putInCopy(memory("m1", "Older", { created_at: "2026-11-01T00:00:00Z" }));
    await putInCopy(memory("m2", "Newer", { created_at: "2026-11-02T00:00:00Z" }));
    await (await offlineDb()).put("meta", "2026-11-30T00:00:00Z", "last_sync_at");
    stubFetch(() => Promise.reject(new TypeError("Failed to fetch")));
    const list = renderList();
    await eventually(() => expect(within(list).getAllByRole("listitem")).toHaveLength(2));
    await capture("Just now");
    await eventually(() => expect(within(list).getAllByRole("listitem")).toHaveLength(3));
    const items = within(list).getAllByRole("listitem");
    expect(items.map((item) => item.querySelector(".memory-title")?.textContent)).toEqual(["Just now", "Newer", "Older"]);
    expect(items[0]).toHaveTextContent("Waiting to sync");
    expect(items[1]).not.toHaveTextContent("Waiting to sync");
  });

  it("shows a refused save as Needs attention with the server's reason; Fix sends the new text", async () => {
    let refuse = true;
    const calls = stubFetch((_url, init) => {
      if (init.method === "POST" && refuse) return problem(400, "invalid", "This text is too long.");
      if (init.method === "POST") return json({ ...memory("m9", "Short now"), duplicate: false }, 201);
      // The changes feed: what the server holds.
      return json({ changes: refuse ? [] : [memory("m9", "Short now")], deleted: [], cursor: "c", more: false });
    });
    const list = renderList();
    const user = await capture("Far too long");
    await replay({ locks: null });

    const item = await within(list).findByRole("listitem");
    await within(item).findByText("Needs attention");
    expect(item).toHaveTextContent("This text is too long.");

    await user.click(within(item).getByRole("button", { name: "Fix" }));
    const box = within(item).getByRole("textbox", { name: "Fix the text" });
    await user.clear(box);
    await user.type(box, "Short now");
    refuse = false;
    // Send again queues the fix and starts a replay.
    await user.click(within(item).getByRole("button", { name: "Send again" }));

    await eventually(() => expect(calls.filter((call) => call.init.method === "POST")).toHaveLength(2));
    await eventually(() =>
      expect(within(list).getByRole("listitem")).not.toHaveTextContent(/Waiting to sync|Syncing|Needs attention/),
    );
    expect(within(list).getByRole("listitem")).toHaveTextContent("Short now");
    const posts = calls.filter((call) => call.init.method === "POST");
    expect(posts).toHaveLength(2);
    expect(posts[1]!.body).toMatchObject({ content: "Short now" });
    // The fix is a new body: sent under its own key, derived from the one made at Save.
    expect(posts[1]!.headers.get("Idempotency-Key")).toBe(`${posts[0]!.headers.get("Idempotency-Key")}:r1`);
  });

  it("discards a refused save", async () => {
    stubFetch(() => problem(402, "quota_exceeded", "Your plan's memory limit is reached."));
    const list = renderList();
    const user = await capture("One too many");
    await replay({ locks: null });
    const item = await within(list).findByRole("listitem");
    await within(item).findByText("Your plan's memory limit is reached.");
    await user.click(within(item).getByRole("button", { name: "Discard save" }));
    await eventually(() => expect(within(list).queryAllByRole("listitem")).toHaveLength(0));
    expect(await listEntries()).toHaveLength(0);
  });
});
