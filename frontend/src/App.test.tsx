import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { App } from "./App";
import { account, json, memory, problem, stubFetch } from "./test/helpers";
import { deferred, fillStorage, freshOfflineState, eventually } from "./test/offline";
import { rememberUser } from "./lib/session";
import { claimDevice } from "./offline/account";
import { lastSyncAt, putInCopy } from "./offline/copy";
import { CHANNEL_NAME } from "./offline/events";
import { enqueueCreate } from "./offline/queue";
import { syncNow } from "./offline/sync";
import { LIST_PAGE } from "./screens/MemoriesScreen";

beforeEach(async () => {
  await freshOfflineState();
  localStorage.clear();
});

afterEach(async () => {
  cleanup();
  // A replay this test started (or queued) ends with this test's server, never in the next one.
  await syncNow({ pull: false }).catch(() => undefined);
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

  it("shows the shell, the list from the device's copy with pages, and a new memory on top at Save", async () => {
    const rows = Array.from({ length: LIST_PAGE + 2 }, (_, n) =>
      memory(`m${String(n).padStart(3, "0")}`, `Memory ${n}`, {
        created_at: new Date(Date.parse("2026-11-01T00:00:00Z") + n * 60_000).toISOString(),
      }),
    );
    const created = { ...memory("m999", "Fresh thought\nmore", { tags: ["new"], kind: "idea" }), duplicate: false };
    const sent = deferred<void>();
    const calls = stubFetch(async (url, init) => {
      if (url === "/api/v1/me") return json(me);
      if (url === "/api/v1/memories" && init.method === "POST") {
        await sent.promise;
        return json(created, 201);
      }
      if (url.startsWith("/api/v1/memories/changes")) return json({ changes: rows, deleted: [], cursor: "c1", more: false });
      return problem(404, "not_found", "Not found.");
    });
    render(
      <MemoryRouter initialEntries={["/"]}>
        <App />
      </MemoryRouter>,
    );
    const list = await screen.findByRole("list", { name: "Memories" });
    await eventually(() => expect(within(list).getAllByRole("listitem")).toHaveLength(LIST_PAGE));
    expect(within(list).getAllByRole("listitem")[0]).toHaveTextContent(`Memory ${LIST_PAGE + 1}`); // newest first
    expect(screen.getByRole("status", { name: "Connection" })).toHaveTextContent("Online");
    for (const name of ["Memories", "Search", "Inbox", "Settings"]) {
      expect(screen.getByRole("link", { name })).toBeInTheDocument();
    }

    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "Load more" }));
    await eventually(() => expect(within(list).getAllByRole("listitem")).toHaveLength(LIST_PAGE + 2));
    expect(screen.queryByRole("button", { name: "Load more" })).not.toBeInTheDocument();

    await user.type(screen.getByRole("textbox", { name: "Memory" }), "Fresh thought");
    await user.type(screen.getByRole("textbox", { name: "Tags" }), "new");
    await user.selectOptions(screen.getByRole("combobox", { name: "Kind" }), "idea");
    await user.click(screen.getByRole("button", { name: "Save" }));
    // At once, before the server answered: on top, with its state, counted.
    await eventually(() => expect(within(list).getAllByRole("listitem")).toHaveLength(LIST_PAGE + 3));
    const first = within(list).getAllByRole("listitem")[0]!;
    expect(first).toHaveTextContent("Fresh thought");
    expect(first).toHaveTextContent("new");
    expect(first).toHaveTextContent("idea");
    expect(first).toHaveTextContent(/Waiting to sync|Syncing/);
    expect(screen.getByText("1 waiting to sync")).toBeInTheDocument();

    sent.resolve();
    await eventually(() => expect(screen.queryByText("1 waiting to sync")).not.toBeInTheDocument());
    await eventually(() => expect(within(list).getAllByRole("listitem")[0]).not.toHaveTextContent(/Waiting to sync|Syncing/));
    expect(within(list).getAllByRole("listitem")[0]).toHaveTextContent("Fresh thought");
    expect(within(list).getAllByRole("listitem")).toHaveLength(LIST_PAGE + 3);
    expect(calls.filter((c) => c.init.method === "POST")).toHaveLength(1);
  });

  it("opens with no network for the account signed in before, listing the saves waiting on the device", async () => {
    rememberUser(me);
    await claimDevice(me.id);
    await putInCopy(memory("m1", "From the last sync"));
    await enqueueCreate({ content: "Saved on the train", kind: "note" }, Date.parse("2026-11-30T08:00:00Z"));
    await enqueueCreate({ content: "Saved in the tunnel", kind: "note" }, Date.parse("2026-11-30T08:05:00Z"));
    const onLine = vi.spyOn(navigator, "onLine", "get").mockReturnValue(false);
    stubFetch(() => Promise.reject(new TypeError("Failed to fetch")));
    render(
      <MemoryRouter initialEntries={["/"]}>
        <App />
      </MemoryRouter>,
    );
    const list = await screen.findByRole("list", { name: "Memories" });
    await eventually(() => expect(within(list).getAllByRole("listitem")).toHaveLength(3));
    const items = within(list).getAllByRole("listitem");
    expect(items[0]).toHaveTextContent("Saved in the tunnel");
    expect(items[0]).toHaveTextContent("Waiting to sync");
    expect(items[2]).toHaveTextContent("From the last sync");
    expect(screen.getByRole("status", { name: "Connection" })).toHaveTextContent("Offline");
    expect(await screen.findByText("2 waiting to sync")).toBeInTheDocument();
    onLine.mockRestore();
  });

  it("sends the queue on Sync now, and counts saves another tab queued", async () => {
    let online = false;
    const calls = stubFetch((url, init) => {
      if (url === "/api/v1/me") return json(me);
      if (!online) return Promise.reject(new TypeError("Failed to fetch"));
      if (init.method === "POST") return json({ ...memory(crypto.randomUUID(), "x"), duplicate: false }, 201);
      return json({ changes: [], deleted: [], cursor: "c", more: false });
    });
    render(
      <MemoryRouter initialEntries={["/"]}>
        <App />
      </MemoryRouter>,
    );
    await screen.findByRole("list", { name: "Memories" });
    // Another tab writes into the same database and says so on the channel.
    const entry = await enqueueCreate({ content: "From the other tab", kind: "note" });
    const otherTab = new BroadcastChannel(CHANNEL_NAME);
    otherTab.postMessage({ type: "queue" });
    expect(await screen.findByText("1 waiting to sync")).toBeInTheDocument();
    otherTab.close();

    online = true;
    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "Sync now" }));
    await eventually(() => expect(screen.queryByText("1 waiting to sync")).not.toBeInTheDocument());
    const post = calls.find((c) => c.init.method === "POST")!;
    expect(post.headers.get("Idempotency-Key")).toBe(entry.key);
  });

  it("signs out when the replay hears 401", async () => {
    await enqueueCreate({ content: "Queued", kind: "note" });
    stubFetch((url) => {
      if (url === "/api/v1/me") return json(me);
      return problem(401, "not_authenticated", "Sign in.");
    });
    render(
      <MemoryRouter initialEntries={["/"]}>
        <App />
      </MemoryRouter>,
    );
    expect(await screen.findByRole("button", { name: "Sign in" })).toBeInTheDocument();
  });

  it("shows the storage banner, with the export, when a save is kept in memory", async () => {
    stubFetch((url) => (url === "/api/v1/me" ? json(me) : Promise.reject(new TypeError("Failed to fetch"))));
    render(
      <MemoryRouter initialEntries={["/"]}>
        <App />
      </MemoryRouter>,
    );
    await screen.findByRole("list", { name: "Memories" });
    await eventually(async () => expect(await lastSyncAt()).toBeNull());
    const full = fillStorage("throw");
    const user = userEvent.setup();
    await user.type(screen.getByRole("textbox", { name: "Memory" }), "Kept in memory");
    await user.click(screen.getByRole("button", { name: "Save" }));
    const banner = await screen.findByRole("alert");
    expect(banner).toHaveTextContent(/storage/i);
    expect(within(banner).getByRole("link", { name: /export/i })).toHaveAttribute("href", "/api/v1/export");
    expect(await within(await screen.findByRole("list", { name: "Memories" })).findByText("Kept in memory")).toBeInTheDocument();
    full.mockRestore();
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
    await eventually(() => expect(status).toHaveTextContent("Offline"));
    onLine.mockReturnValue(true);
    window.dispatchEvent(new Event("online"));
    await eventually(() => expect(status).toHaveTextContent("Online"));
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

  it("ends the server's session at the next start when the sign-out had no network", async () => {
    let network = false;
    let sessionAlive = true; // the failed sign-out leaves the server's session alive
    const calls = stubFetch((url) => {
      if (url === "/api/v1/auth/logout") {
        if (!network) throw new TypeError("Failed to fetch");
        sessionAlive = false;
        return new Response(null, { status: 204 });
      }
      if (url === "/api/v1/me") {
        return sessionAlive ? json(me) : problem(401, "not_authenticated", "Authentication credentials were not provided.");
      }
      return json({ results: [], next: null });
    });
    const start = () =>
      render(
        <MemoryRouter initialEntries={["/"]}>
          <App />
        </MemoryRouter>,
      );
    const sessionCalls = (from: number) =>
      calls.slice(from).filter((call) => /\/(me|auth\/logout)$/.test(call.url));
    const user = userEvent.setup();
    const first = start();
    await user.click(await screen.findByRole("button", { name: "Sign out" }));
    expect(await screen.findByRole("button", { name: "Sign in" })).toBeInTheDocument();
    first.unmount();

    // Opened again with no network still: not signed in as the one who left (/me not asked).
    let asked = calls.length;
    const offline = start();
    expect(await screen.findByRole("button", { name: "Sign in" })).toBeInTheDocument();
    expect(sessionCalls(asked).map((call) => call.url)).toEqual(["/api/v1/auth/logout"]);
    offline.unmount();

    // With the network: that account's session ends first, then /me is asked as always.
    network = true;
    asked = calls.length;
    const online = start();
    expect(await screen.findByRole("button", { name: "Sign in" })).toBeInTheDocument();
    await vi.waitFor(() =>
      expect(sessionCalls(asked).map((call) => call.url)).toEqual(["/api/v1/auth/logout", "/api/v1/me"]),
    );
    expect(sessionCalls(asked)[0]?.headers.get("X-Account-Id")).toBe(String(me.id)); // only that one's
    expect(sessionAlive).toBe(false);
    online.unmount();

    asked = calls.length;
    start(); // paid: the next start only asks /me
    expect(await screen.findByRole("button", { name: "Sign in" })).toBeInTheDocument();
    await vi.waitFor(() => expect(sessionCalls(asked).map((call) => call.url)).toEqual(["/api/v1/me"]));
  });

  it("opens on the account signed in in another tab when the owed sign-out was for another", async () => {
    localStorage.setItem("mc:sign-out-owed", "99"); // account 99 signed out here with no network
    const calls = stubFetch((url, init) => {
      if (url === "/api/v1/auth/logout") {
        const named = new Headers(init.headers).get("X-Account-Id");
        return named === String(me.id)
          ? new Response(null, { status: 204 })
          : problem(401, "account_changed", "This session is another account's.");
      }
      if (url === "/api/v1/me") return json(me); // another tab signed in as `me` since
      return json({ results: [], next: null });
    });
    render(
      <MemoryRouter initialEntries={["/"]}>
        <App />
      </MemoryRouter>,
    );
    expect(await screen.findByRole("button", { name: "Sign out" })).toBeInTheDocument();
    expect(calls.filter((call) => call.url === "/api/v1/auth/logout")).toHaveLength(1);
    expect(localStorage.getItem("mc:sign-out-owed")).toBeNull();
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
    await eventually(() => expect(screen.queryByRole("link", { name: "Possible duplicates" })).not.toBeInTheDocument());
    expect(screen.getByText(/No possible duplicates left/)).toBeInTheDocument();
  });
});
