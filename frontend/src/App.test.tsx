import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { App } from "./App";
import { account, json, memory, problem, stubFetch } from "./test/helpers";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const me = account();

describe("App", () => {
  it("shows the sign-in screen when /me is 401", async () => {
    stubFetch(() => problem(401, "not_authenticated", "Authentication credentials were not provided."));
    render(
      <MemoryRouter initialEntries={["/"]}>
        <App />
      </MemoryRouter>,
    );
    expect(await screen.findByRole("button", { name: "Sign in" })).toBeInTheDocument();
    expect(screen.getByRole("textbox", { name: "Email" })).toBeInTheDocument();
  });

  it("shows the shell, the list with pages, and a new memory on top after Save", async () => {
    const created = { ...memory("m9", "Fresh thought\nmore", { tags: ["new"], kind: "idea" }), duplicate: false };
    const calls = stubFetch((url, init) => {
      if (url === "/api/v1/me") return json(me);
      if (url === "/api/v1/memories" && init.method === "POST") return json(created, 201);
      if (url === "/api/v1/memories")
        return json({ results: [memory("m2", "Second"), memory("m1", "First", { title: "Titled" })], next: "http://x/api/v1/memories?cursor=abc" });
      if (url === "/api/v1/memories?cursor=abc") return json({ results: [memory("m0", "Oldest")], next: null });
      return problem(404, "not_found", "Not found.");
    });
    render(
      <MemoryRouter initialEntries={["/"]}>
        <App />
      </MemoryRouter>,
    );
    const list = await screen.findByRole("list", { name: "Memories" });
    expect(within(list).getAllByRole("listitem").map((li) => li.querySelector(".memory-title")?.textContent)).toEqual([
      "Second",
      "Titled",
    ]);
    expect(screen.getByRole("status", { name: "Connection" })).toHaveTextContent("Online");
    for (const name of ["Memories", "Search", "Inbox", "Settings"]) {
      expect(screen.getByRole("link", { name })).toBeInTheDocument();
    }

    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "Load more" }));
    await vi.waitFor(() => expect(within(list).getAllByRole("listitem")).toHaveLength(3));
    expect(screen.queryByRole("button", { name: "Load more" })).not.toBeInTheDocument();

    await user.type(screen.getByRole("textbox", { name: "Memory" }), "Fresh thought");
    await user.click(screen.getByRole("button", { name: "Save" }));
    await vi.waitFor(() => expect(within(list).getAllByRole("listitem")).toHaveLength(4));
    const first = within(list).getAllByRole("listitem")[0]!;
    expect(first).toHaveTextContent("Fresh thought");
    expect(first).toHaveTextContent("new");
    expect(first).toHaveTextContent("idea");
    expect(calls.filter((c) => c.init.method === "POST")).toHaveLength(1);
  });

  it("follows online and offline events", async () => {
    stubFetch((url) => (url === "/api/v1/me" ? json(me) : json({ results: [], next: null })));
    render(
      <MemoryRouter initialEntries={["/settings"]}>
        <App />
      </MemoryRouter>,
    );
    const status = await screen.findByRole("status", { name: "Connection" });
    expect(await screen.findByRole("heading", { name: "Settings" })).toBeInTheDocument();
    const onLine = vi.spyOn(navigator, "onLine", "get").mockReturnValue(false);
    window.dispatchEvent(new Event("offline"));
    await vi.waitFor(() => expect(status).toHaveTextContent("Offline"));
    onLine.mockReturnValue(true);
    window.dispatchEvent(new Event("online"));
    await vi.waitFor(() => expect(status).toHaveTextContent("Online"));
  });

  it("signs out back to the sign-in screen", async () => {
    const calls = stubFetch((url) => {
      if (url === "/api/v1/me") return json(me);
      if (url === "/api/v1/auth/logout") return new Response(null, { status: 204 });
      return json({ results: [], next: null });
    });
    render(
      <MemoryRouter initialEntries={["/"]}>
        <App />
      </MemoryRouter>,
    );
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Sign out" }));
    expect(await screen.findByRole("button", { name: "Sign in" })).toBeInTheDocument();
    expect(calls.some((c) => c.url === "/api/v1/auth/logout" && c.init.method === "POST")).toBe(true);
  });

  it("shows the Possible duplicates link only while there are pairs, and opens the screen", async () => {
    let open = 1;
    const pairs = () => ({
      count: open,
      results: open
        ? [{ id: "p1", memory: memory("m1", "Dry cleaning 4411"), similar: memory("m2", "Dry cleaning #4411"), similarity: 0.99, same_link: false, state: "open" }]
        : [],
    });
    stubFetch((url) => {
      if (url === "/api/v1/me") return json(me);
      if (url.startsWith("/api/v1/near-duplicates/p1/dismiss")) {
        open = 0;
        return json({ ...pairs(), state: "dismissed" });
      }
      if (url.startsWith("/api/v1/near-duplicates")) return json(pairs());
      return json({ results: [], next: null, count: 0 });
    });
    render(
      <MemoryRouter initialEntries={["/"]}>
        <App />
      </MemoryRouter>,
    );
    const user = userEvent.setup();
    await user.click(await screen.findByRole("link", { name: "Possible duplicates" }));
    const list = await screen.findByRole("list", { name: "Possible duplicates" });
    await user.click(await within(list).findByRole("button", { name: "Keep both" }));
    await vi.waitFor(() => expect(screen.queryByRole("link", { name: "Possible duplicates" })).not.toBeInTheDocument());
    expect(screen.getByText(/No possible duplicates left/)).toBeInTheDocument();
  });
});
