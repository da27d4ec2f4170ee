import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { DuplicatesScreen, alikeness, insertBySimilarity } from "./DuplicatesScreen";
import type { Pair } from "../api/client";
import { NoticeProvider } from "../components/Notice";
import { onDuplicatesChanged, onRestored } from "../lib/memoryEvents";
import { json, memory, problem, stubFetch, type Call } from "../test/helpers";
import { WithSession } from "../test/session";
import { syncNow } from "../offline/sync";

afterEach(async () => {
  cleanup();
  // A merge pulls the changes feed: let it end with this test's server, not in the next test.
  await syncNow({ pull: false }).catch(() => undefined);
  vi.unstubAllGlobals();
});

const KEPT = "Pick up the dry cleaning on Friday before 6pm, ticket 4411";
const NEWER = "Pick up the dry cleaning on Friday before 7pm, ticket 4411";

function pair(id: string, similarity: number, extra: Partial<Pair> = {}): Pair {
  return {
    id,
    memory: memory(`${id}-old`, KEPT, { tags: ["errands"], created_at: "2026-11-29T08:00:00Z" }),
    similar: memory(`${id}-new`, NEWER, { tags: ["friday"], created_at: "2026-11-30T08:00:00Z" }),
    similarity,
    same_link: false,
    state: "open",
    ...extra,
  };
}

function renderScreen(onUnauthorized = vi.fn()) {
  render(
    <MemoryRouter>
      <WithSession>
        <NoticeProvider>
          <DuplicatesScreen onUnauthorized={onUnauthorized} />
        </NoticeProvider>
      </WithSession>
    </MemoryRouter>,
  );
  return onUnauthorized;
}

const posts = (calls: Call[]) => calls.filter((call) => call.init.method === "POST").map((call) => call.url);
/** The list once its pairs have loaded (it is in the page, empty, while they load). */
const pairList = async () => {
  const list = await screen.findByRole("list", { name: "Possible duplicates" });
  await within(list).findAllByRole("listitem");
  return list;
};

describe("DuplicatesScreen", () => {
  it("shows each pair side by side, the older kept, with differences, similarity, tags and a same link", async () => {
    stubFetch(() => json({ count: 2, results: [pair("p1", 0.9861, { same_link: true }), pair("p2", 0.97)] }));
    renderScreen();

    const rows = within(await pairList()).getAllByRole("listitem");
    expect(rows).toHaveLength(2);
    const [first] = rows;
    expect(first).toHaveTextContent("98.6 % alike");
    expect(first).toHaveTextContent("Same link");
    expect(rows[1]).not.toHaveTextContent("Same link");

    const kept = within(first!).getByRole("region", { name: "Kept" });
    const newer = within(first!).getByRole("region", { name: "Newer" });
    expect(within(kept).getByRole("link", { name: `Open “${KEPT}”` })).toHaveAttribute("href", "/memories/p1-old");
    expect(within(newer).getByRole("link", { name: `Open “${NEWER}”` })).toHaveAttribute("href", "/memories/p1-new");
    // The words that differ are marked on each side: struck on the kept, underlined on the newer.
    expect(kept.querySelector("del")).toHaveTextContent("6pm");
    expect(kept.querySelector("ins")).toBeNull();
    expect(newer.querySelector("ins")).toHaveTextContent("7pm");
    expect(newer.querySelector("del")).toBeNull();
    expect(kept).toHaveTextContent("errands");
    expect(newer).toHaveTextContent("friday");
  });

  it("merges a pair, then Undo in the notice puts it back", async () => {
    const open = pair("p1", 0.98);
    const calls = stubFetch((url) => {
      if (url.endsWith("/merge")) {
        const kept = { ...open.memory, tags: ["errands", "friday"], version: 2 };
        return json({ pair: { ...open, memory: kept, state: "merged" }, undo_until: "2026-12-30T08:00:00Z" });
      }
      if (url.endsWith("/undo")) return json(open);
      return json({ count: 1, results: [open] });
    });
    const changed = vi.fn();
    const restored = vi.fn();
    const stops = [onDuplicatesChanged(changed), onRestored(restored)];
    renderScreen();
    const user = userEvent.setup();
    const list = await pairList();

    await user.click(within(list).getByRole("button", { name: "Merge" }));

    const notice = screen.getByRole("status", { name: "Notice" });
    expect(await within(notice).findByText(`Merged into “${KEPT}”.`)).toBeInTheDocument();
    expect(within(list).queryByRole("listitem")).not.toBeInTheDocument();
    expect(screen.getByText(/No possible duplicates left/)).toBeInTheDocument();
    expect(changed).toHaveBeenCalledTimes(1);

    await user.click(within(notice).getByRole("button", { name: "Undo" }));

    expect(await within(notice).findByText("Merge undone: both memories are back.")).toBeInTheDocument();
    expect(within(list).getAllByRole("listitem")).toHaveLength(1);
    expect(posts(calls)).toEqual(["/api/v1/near-duplicates/p1/merge", "/api/v1/near-duplicates/p1/undo"]);
    expect(calls.find((call) => call.url.endsWith("/merge"))!.headers.get("Idempotency-Key")).toBeTruthy();
    expect(changed).toHaveBeenCalledTimes(2);
    // A list on screen gets both memories back as they were.
    expect(restored.mock.calls.map(([m]) => m.id)).toEqual(["p1-old", "p1-new"]);
    stops.forEach((stop) => stop());
  });

  it("keeps both: the pair goes away", async () => {
    const calls = stubFetch((url) =>
      url.endsWith("/dismiss")
        ? json({ ...pair("p1", 0.98), state: "dismissed" })
        : json({ count: 2, results: [pair("p1", 0.98), pair("p2", 0.97)] }),
    );
    renderScreen();
    const list = await pairList();

    await userEvent.setup().click(within(list).getAllByRole("button", { name: "Keep both" })[0]!);

    expect(await screen.findByText(`Kept both: “${KEPT}” and its look-alike.`)).toBeInTheDocument();
    expect(within(list).getAllByRole("listitem")).toHaveLength(1);
    expect(posts(calls)).toEqual(["/api/v1/near-duplicates/p1/dismiss"]);
  });

  it("shows the server's reason when a merge fails, and the pairs as they are now", async () => {
    let lists = 0;
    stubFetch((url) => {
      if (url.endsWith("/merge")) return problem(409, "memory_gone", "One of these memories was deleted or merged meanwhile.");
      lists += 1;
      return json(lists === 1 ? { count: 2, results: [pair("p1", 0.98), pair("p2", 0.97)] } : { count: 1, results: [pair("p2", 0.97)] });
    });
    renderScreen();
    const list = await pairList();

    await userEvent.setup().click(within(list).getAllByRole("button", { name: "Merge" })[0]!);

    expect(await screen.findByRole("alert")).toHaveTextContent("One of these memories was deleted or merged meanwhile.");
    await vi.waitFor(() => expect(within(list).getAllByRole("listitem")).toHaveLength(1));
    expect(screen.getByRole("status", { name: "Notice" })).toBeEmptyDOMElement();
  });

  it("says when none are left, and signs out on 401", async () => {
    stubFetch(() => json({ count: 0, results: [] }));
    renderScreen();
    expect(await screen.findByText(/No possible duplicates left/)).toBeInTheDocument();
    cleanup();
    stubFetch(() => problem(401, "not_authenticated", "Sign in."));
    const onUnauthorized = renderScreen();
    await vi.waitFor(() => expect(onUnauthorized).toHaveBeenCalled());
  });
});

describe("alikeness and insertBySimilarity", () => {
  it("never rounds a near-duplicate up to 100 %, and puts an undone pair back in its place", () => {
    expect(alikeness(0.9996)).toBe("99.9 % alike");
    expect(alikeness(0.97)).toBe("97 % alike");
    expect(alikeness(0.29)).toBe("29 % alike");
    const ordered = insertBySimilarity([pair("a", 0.99), pair("c", 0.97)], pair("b", 0.98));
    expect(ordered.map((p) => p.id)).toEqual(["a", "b", "c"]);
    expect(insertBySimilarity([pair("a", 0.99)], pair("z", 0.5)).map((p) => p.id)).toEqual(["a", "z"]);
  });
});
