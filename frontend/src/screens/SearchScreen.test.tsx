import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { act, cleanup, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter, useLocation, useNavigate } from "react-router";
import { SearchScreen } from "./SearchScreen";
import { json, memory, problem, stubFetch, type Call } from "../test/helpers";
import { freshOfflineState } from "../test/offline";
import { offlineDb } from "../offline/db";
import { enqueueCreate } from "../offline/queue";
import { stopOfflineSearch } from "../search/offlineSearch";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  stopOfflineSearch();
});

function answer(hits: { id: string; content: string; snippet: string; title?: string }[], degraded = false) {
  return {
    mode_used: degraded ? "keyword" : "hybrid",
    degraded,
    results: hits.map((hit) => ({
      memory: memory(hit.id, hit.content, hit.title ? { title: hit.title } : {}),
      score: 0.5,
      snippet: hit.snippet,
    })),
  };
}

let location = "";
let navigate: ReturnType<typeof useNavigate> = () => undefined;
function Probe() {
  const current = useLocation();
  location = current.pathname + current.search;
  navigate = useNavigate();
  return null;
}

function renderAt(entry = "/search") {
  return render(
    <MemoryRouter initialEntries={[entry]}>
      <SearchScreen />
      <Probe />
    </MemoryRouter>,
  );
}

function query(call: Call) {
  return Object.fromEntries(new URL(call.url, "http://x").searchParams);
}

describe("SearchScreen", () => {
  it("shows a hint and sends nothing for an empty query", async () => {
    const calls = stubFetch(() => json(answer([])));
    renderAt();
    expect(screen.getByRole("searchbox", { name: "Search memories" })).toHaveValue("");
    expect(screen.getByRole("combobox", { name: "Mode" })).toHaveValue("auto");
    expect(screen.getByText(/Type to search/)).toBeInTheDocument();
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(calls).toHaveLength(0);
  });

  it("waits for a pause in typing and sends one request for the whole query", async () => {
    const calls = stubFetch(() => json(answer([{ id: "m1", content: "My bike", snippet: "My <mark>bike</mark>" }])));
    renderAt();
    const user = userEvent.setup();
    await user.type(screen.getByRole("searchbox", { name: "Search memories" }), "bike");
    expect(calls).toHaveLength(0);
    const list = await screen.findByRole("list", { name: "Results" });
    await vi.waitFor(() => expect(within(list).getAllByRole("listitem")).toHaveLength(1));
    expect(calls).toHaveLength(1);
    expect(query(calls[0]!)).toEqual({ q: "bike", mode: "auto", limit: "20" });
    const item = within(list).getByRole("listitem");
    expect(item).toHaveTextContent("My bike");
    expect(item.querySelector("mark")).toHaveTextContent("bike");
  });

  it("ignores an older slow answer that arrives after a newer one, and aborts it", async () => {
    const pending = new Map<string, (response: Response) => void>();
    const calls = stubFetch(
      (url) => new Promise<Response>((resolve) => pending.set(new URL(url, "http://x").searchParams.get("q")!, resolve)),
    );
    renderAt();
    const user = userEvent.setup();
    const box = screen.getByRole("searchbox", { name: "Search memories" });
    await user.type(box, "tea");
    await vi.waitFor(() => expect(pending.has("tea")).toBe(true));
    await user.type(box, "pot");
    await vi.waitFor(() => expect(pending.has("teapot")).toBe(true));
    expect(calls.map((call) => query(call).q)).toEqual(["tea", "teapot"]);
    expect(calls[0]!.init.signal?.aborted).toBe(true);

    await act(async () => {
      pending.get("teapot")!(json(answer([{ id: "new", content: "Newer teapot", snippet: "teapot" }])));
    });
    const list = await screen.findByRole("list", { name: "Results" });
    await vi.waitFor(() => expect(list).toHaveTextContent("Newer teapot"));
    await act(async () => {
      pending.get("tea")!(json(answer([{ id: "old", content: "Older tea", snippet: "tea" }])));
      await new Promise((resolve) => setTimeout(resolve, 50));
    });
    expect(within(list).getAllByRole("listitem")).toHaveLength(1);
    expect(list).toHaveTextContent("Newer teapot");
    expect(list).not.toHaveTextContent("Older tea");
  });

  it("shows Keyword only when the answer is degraded, and not otherwise", async () => {
    stubFetch((url) =>
      json(answer([{ id: "m1", content: "Soup", snippet: "<mark>soup</mark>" }], url.includes("q=soup"))),
    );
    renderAt("/search?q=soup&mode=semantic");
    expect(await screen.findByText("Keyword only")).toBeInTheDocument();
    cleanup();
    renderAt("/search?q=stew&mode=semantic");
    await screen.findByText("Soup");
    expect(screen.queryByText("Keyword only")).not.toBeInTheDocument();
  });

  it("says when nothing matches", async () => {
    stubFetch(() => json(answer([])));
    renderAt("/search?q=zzz&mode=auto");
    expect(await screen.findByText("No memories match")).toBeInTheDocument();
  });

  it("reads the query and mode from the URL and writes them back, so reload and back work", async () => {
    const calls = stubFetch(() => json(answer([])));
    renderAt("/search?q=tea&mode=keyword");
    expect(screen.getByRole("searchbox", { name: "Search memories" })).toHaveValue("tea");
    expect(screen.getByRole("combobox", { name: "Mode" })).toHaveValue("keyword");
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    expect(query(calls[0]!)).toMatchObject({ q: "tea", mode: "keyword" });

    const user = userEvent.setup();
    await user.selectOptions(screen.getByRole("combobox", { name: "Mode" }), "hybrid");
    expect(location).toBe("/search?q=tea&mode=hybrid");
    await vi.waitFor(() => expect(calls).toHaveLength(2));
    expect(query(calls[1]!)).toMatchObject({ q: "tea", mode: "hybrid" });

    const box = screen.getByRole("searchbox", { name: "Search memories" });
    await user.clear(box);
    await user.type(box, "green tea");
    await vi.waitFor(() => expect(location).toBe("/search?q=green+tea&mode=hybrid"));

    // Back returns to the mode chosen before, and the box follows the URL.
    await act(async () => {
      await navigate(-1);
    });
    await vi.waitFor(() => expect(location).toBe("/search?q=tea&mode=keyword"));
    expect(screen.getByRole("searchbox", { name: "Search memories" })).toHaveValue("tea");
    expect(screen.getByRole("combobox", { name: "Mode" })).toHaveValue("keyword");
  });

  it("shows how long to wait on 429, from Retry-After", async () => {
    stubFetch(() => {
      const response = problem(429, "rate_limited", "Too many requests; retry in 12 s.");
      response.headers.set("Retry-After", "12");
      return response;
    });
    renderAt("/search?q=tea&mode=auto");
    expect(await screen.findByRole("alert")).toHaveTextContent("Too many searches; try again in 12 s");
  });

  it("shows the problem's detail for other errors", async () => {
    stubFetch(() => problem(400, "invalid", "The query is too long."));
    renderAt("/search?q=tea&mode=auto");
    expect(await screen.findByRole("alert")).toHaveTextContent("The query is too long.");
  });

  it("renders snippets as text, never as HTML", async () => {
    const snippet =
      "&lt;img src=x onerror=alert(1)&gt; <mark>tea</mark> &amp; <b>cake</b> &quot;ok&quot; <script>bad()</script>";
    stubFetch(() => json(answer([{ id: "m1", content: "x", title: "Recipes", snippet }])));
    renderAt("/search?q=tea&mode=auto");
    const list = await screen.findByRole("list", { name: "Results" });
    const item = await within(list).findByRole("listitem");
    expect(item).toHaveTextContent("Recipes");
    expect(item).toHaveTextContent('<img src=x onerror=alert(1)> tea & <b>cake</b> "ok" <script>bad()</script>');
    expect(item.querySelector("img")).toBeNull();
    expect(item.querySelector("b")).toBeNull();
    expect(item.querySelector("script")).toBeNull();
    expect(item.querySelectorAll("mark")).toHaveLength(1);
    expect(item.querySelector("mark")).toHaveTextContent("tea");
  });
});

describe("SearchScreen without a network", () => {
  beforeEach(async () => {
    await freshOfflineState();
    const db = await offlineDb();
    await db.put("memories", memory("s1", "The bicycle shop on Elm street", { title: "Bike repair" }));
    await db.put("memories", memory("s2", "Tomato soup with basil", { tags: ["recipes"] }));
  });

  function goOffline() {
    vi.spyOn(navigator, "onLine", "get").mockReturnValue(false);
  }

  it("answers from the device when the browser is offline, and marks the results", async () => {
    goOffline();
    const calls = stubFetch(() => {
      throw new TypeError("no network");
    });
    renderAt("/search?q=bicy&mode=auto");
    expect(await screen.findByText("Offline results")).toBeInTheDocument();
    const list = screen.getByRole("list", { name: "Results" });
    const item = await within(list).findByRole("listitem");
    expect(item).toHaveTextContent("Bike repair");
    expect(item.querySelector("mark")).toHaveTextContent("bicycle");
    expect(calls).toHaveLength(0);
    expect(screen.queryByText("Keyword only")).not.toBeInTheDocument();
  });

  it("finds a save still waiting in the queue", async () => {
    goOffline();
    stubFetch(() => {
      throw new TypeError("no network");
    });
    await enqueueCreate({ content: "Soup kitchen volunteering on Saturday" });
    renderAt("/search?q=soup&mode=auto");
    const list = await screen.findByRole("list", { name: "Results" });
    await vi.waitFor(() => expect(within(list).getAllByRole("listitem")).toHaveLength(2));
    expect(list).toHaveTextContent("Soup kitchen volunteering");
    expect(list).toHaveTextContent("Tomato soup");
  });

  it("falls back to the device when the request cannot reach the server", async () => {
    const calls = stubFetch(() => {
      throw new TypeError("Failed to fetch");
    });
    renderAt("/search?q=soup&mode=semantic");
    expect(await screen.findByText("Offline results")).toBeInTheDocument();
    const list = screen.getByRole("list", { name: "Results" });
    expect(await within(list).findByRole("listitem")).toHaveTextContent("Tomato soup");
    expect(calls).toHaveLength(1);
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
  });

  it("says when nothing on the device matches", async () => {
    goOffline();
    stubFetch(() => {
      throw new TypeError("no network");
    });
    renderAt("/search?q=zebra&mode=auto");
    expect(await screen.findByText("No memories match")).toBeInTheDocument();
    expect(screen.getByText("Offline results")).toBeInTheDocument();
  });

  it("asks the server again once back online, and drops the offline mark", async () => {
    const onLine = vi.spyOn(navigator, "onLine", "get").mockReturnValue(false);
    const calls = stubFetch(() => json(answer([{ id: "srv", content: "From the server", snippet: "soup" }])));
    renderAt("/search?q=soup&mode=auto");
    expect(await screen.findByText("Offline results")).toBeInTheDocument();
    expect(calls).toHaveLength(0);
    onLine.mockReturnValue(true);
    await act(async () => {
      window.dispatchEvent(new Event("online"));
    });
    const list = screen.getByRole("list", { name: "Results" });
    await vi.waitFor(() => expect(list).toHaveTextContent("From the server"));
    expect(calls).toHaveLength(1);
    expect(screen.queryByText("Offline results")).not.toBeInTheDocument();
  });

  it("keeps the server's answer online, even with a device copy", async () => {
    stubFetch(() => json(answer([{ id: "srv", content: "Server soup", snippet: "soup" }])));
    renderAt("/search?q=soup&mode=auto");
    const list = await screen.findByRole("list", { name: "Results" });
    await vi.waitFor(() => expect(list).toHaveTextContent("Server soup"));
    expect(screen.queryByText("Offline results")).not.toBeInTheDocument();
  });
});
