import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { SettingsScreen } from "./SettingsScreen";
import { json, problem, stubFetch } from "../test/helpers";
import { WithSession } from "../test/session";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const usage = {
  plan: "free",
  limits: {
    max_memories: 1000,
    saves_per_day: null,
    enrichments_per_month: 1000,
    ai_budget_usd_per_month: "0.5000",
    searches_per_minute: 30,
    writes_per_minute: 300,
  },
  used: {
    max_memories: 1,
    saves_per_day: 3,
    enrichments_per_month: 0,
    ai_budget_usd_per_month: "0.12500000",
    searches_per_minute: 2,
    writes_per_minute: 4,
  },
  resets_at: {
    max_memories: null,
    saves_per_day: "2026-12-01T00:00:00Z",
    enrichments_per_month: "2027-01-01T00:00:00Z",
    ai_budget_usd_per_month: "2027-01-01T00:00:00Z",
    searches_per_minute: "2026-11-30T06:01:00Z",
    writes_per_minute: "2026-11-30T06:01:00Z",
  },
};

function token(id: number, name: string, lastUsed: string | null = null) {
  return { id, name, created_at: "2026-11-30T06:00:00Z", last_used_at: lastUsed };
}

type Responder = Parameters<typeof stubFetch>[0];

/** Answers usage and the token list; `tokens` answers everything else about tokens. */
function stubApi(tokens: Responder = () => problem(404, "not_found", "Not found.")) {
  return stubFetch((url, init) => {
    if (url === "/api/v1/usage") return json(usage);
    if (url === "/api/v1/tokens" && (init.method ?? "GET") === "GET")
      return json({ results: [token(2, "phone", "2026-11-30T07:00:00Z"), token(1, "old script")], next: null });
    return tokens(url, init);
  });
}

function row(label: string) {
  const item = within(screen.getByRole("list", { name: "Usage" }))
    .getAllByRole("listitem")
    .find((li) => li.querySelector(".usage-label")?.textContent === label);
  if (!item) throw new Error(`no usage row ${label}`);
  return item;
}

describe("SettingsScreen", () => {
  it("shows each limit with what is used, a named meter, unlimited limits and when each resets", async () => {
    stubApi();
    render(<SettingsScreen />, { wrapper: WithSession });
    // The six rows are there while loading (no layout shift), without numbers yet.
    expect(within(screen.getByRole("list", { name: "Usage" })).getAllByRole("listitem")).toHaveLength(6);
    expect(screen.queryByRole("meter")).not.toBeInTheDocument();

    expect(await screen.findByText("free")).toBeInTheDocument();
    expect(row("Memories stored")).toHaveTextContent("1 / 1,000");
    expect(row("Memories stored")).toHaveTextContent("Never resets");
    const meter = screen.getByRole("meter", { name: "Memories stored" });
    expect(meter).toHaveAttribute("value", "1");
    expect(meter).toHaveAttribute("max", "1000");

    expect(row("Saves today")).toHaveTextContent("3 / unlimited");
    expect(within(row("Saves today")).queryByRole("meter")).not.toBeInTheDocument();
    const resets = row("Saves today").querySelector("time");
    expect(resets).toHaveAttribute("dateTime", "2026-12-01T00:00:00Z");
    expect(row("Saves today")).toHaveTextContent(/Resets \S/);

    expect(row("AI spend this month")).toHaveTextContent("$0.125 / $0.50");
    expect(screen.getByRole("meter", { name: "AI spend this month" })).toHaveAttribute("value", "0.125");
    expect(screen.getAllByRole("meter")).toHaveLength(5);
  });

  it("lists the tokens with when each was created and last used", async () => {
    stubApi();
    render(<SettingsScreen />, { wrapper: WithSession });
    const list = await screen.findByRole("list", { name: "API tokens" });
    const items = within(list).getAllByRole("listitem");
    expect(items).toHaveLength(2);
    expect(items[0]).toHaveTextContent("phone");
    expect(items[0]).toHaveTextContent(/Last used \S/);
    expect(items[1]).toHaveTextContent("Never used");
    expect(within(items[1]!).getByRole("button", { name: "Revoke old script" })).toBeInTheDocument();
  });

  it("creates a token, shows its secret once until Done, and lists it", async () => {
    const calls = stubApi(() => json({ id: 7, name: "laptop", token: "mc_secret123" }, 201));
    render(<SettingsScreen />, { wrapper: WithSession });
    const user = userEvent.setup();
    const writeText = vi.spyOn(navigator.clipboard, "writeText").mockResolvedValue(undefined);
    const list = await screen.findByRole("list", { name: "API tokens" });

    await user.type(screen.getByRole("textbox", { name: "Token name" }), "  laptop ");
    await user.click(screen.getByRole("button", { name: "Create token" }));

    const secret = await screen.findByRole("textbox", { name: "New token" });
    expect(secret).toHaveValue("mc_secret123");
    expect(secret).toHaveAttribute("readonly");
    expect(secret).toHaveFocus();
    expect(screen.getByText(/will not be shown again/)).toBeInTheDocument();
    const post = calls.find((call) => call.init.method === "POST")!;
    expect(post.url).toBe("/api/v1/tokens");
    expect(post.body).toEqual({ name: "laptop" });
    expect(post.headers.get("Idempotency-Key")).toBeTruthy();
    expect(within(list).getAllByRole("listitem")[0]).toHaveTextContent("laptop");
    expect(screen.getByRole("textbox", { name: "Token name" })).toHaveValue("");

    await user.click(screen.getByRole("button", { name: "Copy token" }));
    expect(writeText).toHaveBeenCalledWith("mc_secret123");
    expect(await screen.findByText("Copied")).toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: "Done" }));
    expect(screen.queryByRole("textbox", { name: "New token" })).not.toBeInTheDocument();
    expect(document.body).not.toHaveTextContent("mc_secret123");
    expect(screen.getByRole("textbox", { name: "Token name" })).toHaveFocus();
    expect(within(list).getAllByRole("listitem")).toHaveLength(3);
    expect(within(list).getByRole("button", { name: "Revoke laptop" })).toBeInTheDocument();
  });

  it("selects the secret and says to copy it by hand when the clipboard refuses", async () => {
    stubApi(() => json({ id: 7, name: "laptop", token: "mc_secret123" }, 201));
    render(<SettingsScreen />, { wrapper: WithSession });
    const user = userEvent.setup();
    vi.spyOn(navigator.clipboard, "writeText").mockRejectedValue(new DOMException("Denied", "NotAllowedError"));
    await user.type(screen.getByRole("textbox", { name: "Token name" }), "laptop");
    await user.click(screen.getByRole("button", { name: "Create token" }));
    const secret = (await screen.findByRole("textbox", { name: "New token" })) as HTMLInputElement;
    await user.click(screen.getByRole("button", { name: "Copy token" }));
    expect(await screen.findByText(/copy it by hand/)).toBeInTheDocument();
    expect(secret).toHaveFocus();
    expect(secret.selectionStart).toBe(0);
    expect(secret.selectionEnd).toBe("mc_secret123".length);
  });

  it("revokes a token only after the inline confirmation, and Cancel keeps it", async () => {
    const calls = stubApi((url, init) =>
      url === "/api/v1/tokens/1" && init.method === "DELETE"
        ? new Response(null, { status: 204 })
        : problem(404, "not_found", "Not found."),
    );
    const confirm = vi.spyOn(window, "confirm");
    render(<SettingsScreen />, { wrapper: WithSession });
    const user = userEvent.setup();
    const list = await screen.findByRole("list", { name: "API tokens" });

    await user.click(within(list).getByRole("button", { name: "Revoke old script" }));
    const group = within(list).getByRole("group", { name: "Revoke old script?" });
    expect(within(group).getByRole("button", { name: "Cancel" })).toHaveFocus();
    await user.click(within(group).getByRole("button", { name: "Cancel" }));
    expect(within(list).getByRole("button", { name: "Revoke old script" })).toHaveFocus();
    expect(calls.some((call) => call.init.method === "DELETE")).toBe(false);

    await user.click(within(list).getByRole("button", { name: "Revoke old script" }));
    await user.click(within(list).getByRole("button", { name: "Revoke" }));
    await vi.waitFor(() => expect(within(list).getAllByRole("listitem")).toHaveLength(1));
    expect(list).not.toHaveTextContent("old script");
    expect(list).toHaveTextContent("phone");
    expect(calls.filter((call) => call.init.method === "DELETE").map((call) => call.url)).toEqual(["/api/v1/tokens/1"]);
    expect(screen.getByText("Revoked “old script”.")).toBeInTheDocument();
    expect(confirm).not.toHaveBeenCalled();
  });

  it("shows the server's reason in an alert when a token cannot be created", async () => {
    stubApi(() =>
      problem(409, "too_many_tokens", "This account holds 100 API tokens, the most it may: revoke unused ones first."),
    );
    render(<SettingsScreen />, { wrapper: WithSession });
    const user = userEvent.setup();
    await user.type(screen.getByRole("textbox", { name: "Token name" }), "laptop");
    await user.click(screen.getByRole("button", { name: "Create token" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("This account holds 100 API tokens");
    expect(screen.queryByRole("textbox", { name: "New token" })).not.toBeInTheDocument();
    expect(screen.getByRole("textbox", { name: "Token name" })).toHaveValue("laptop");
  });

  it("says when to retry after 429", async () => {
    stubApi(() => {
      const response = problem(429, "rate_limited", "Too many requests.");
      response.headers.set("Retry-After", "20");
      return response;
    });
    render(<SettingsScreen />, { wrapper: WithSession });
    const user = userEvent.setup();
    await user.type(screen.getByRole("textbox", { name: "Token name" }), "laptop");
    await user.click(screen.getByRole("button", { name: "Create token" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Too many changes; try again in 20 s");
  });

  it("asks for a name before sending anything", async () => {
    const calls = stubApi();
    render(<SettingsScreen />, { wrapper: WithSession });
    const user = userEvent.setup();
    await screen.findByRole("list", { name: "API tokens" });
    await user.type(screen.getByRole("textbox", { name: "Token name" }), "   ");
    await user.click(screen.getByRole("button", { name: "Create token" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Give the token a name");
    expect(calls.some((call) => call.init.method === "POST")).toBe(false);
  });

  it("shows a usage error in an alert", async () => {
    stubFetch((url) =>
      url === "/api/v1/usage"
        ? problem(503, "unavailable", "Usage is unavailable right now.")
        : json({ results: [], next: null }),
    );
    render(<SettingsScreen />, { wrapper: WithSession });
    expect(await screen.findByRole("alert")).toHaveTextContent("Usage is unavailable right now.");
    expect(await screen.findByText("No API tokens yet.")).toBeInTheDocument();
  });

  it("calls onUnauthorized once when the session has ended", async () => {
    stubFetch(() => problem(401, "not_authenticated", "Authentication credentials were not provided."));
    const onUnauthorized = vi.fn();
    render(<SettingsScreen onUnauthorized={onUnauthorized} />, { wrapper: WithSession });
    await vi.waitFor(() => expect(onUnauthorized).toHaveBeenCalled());
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
  });

  it("calls onUnauthorized when a revoke answers 401", async () => {
    stubApi(() => problem(401, "not_authenticated", "Authentication credentials were not provided."));
    const onUnauthorized = vi.fn();
    render(<SettingsScreen onUnauthorized={onUnauthorized} />, { wrapper: WithSession });
    const user = userEvent.setup();
    const list = await screen.findByRole("list", { name: "API tokens" });
    await user.click(within(list).getByRole("button", { name: "Revoke phone" }));
    await user.click(within(list).getByRole("button", { name: "Revoke" }));
    await vi.waitFor(() => expect(onUnauthorized).toHaveBeenCalledTimes(1));
  });

  it("says it is loading the tokens, then that there are none", async () => {
    stubFetch((url) => (url === "/api/v1/usage" ? json(usage) : json({ results: [], next: null })));
    render(<SettingsScreen />, { wrapper: WithSession });
    expect(screen.getByText("Loading your tokens…")).toBeInTheDocument();
    expect(await screen.findByText("No API tokens yet.")).toBeInTheDocument();
    expect(screen.queryByText("Loading your tokens…")).not.toBeInTheDocument();
  });

  it("says why the token list could not load, with the server's reason, and lists nothing", async () => {
    stubFetch((url) => (url === "/api/v1/usage" ? json(usage) : problem(503, "unavailable", "Tokens are resting.")));
    render(<SettingsScreen />, { wrapper: WithSession });
    expect(await screen.findByRole("alert")).toHaveTextContent("Tokens are resting.");
    expect(screen.queryByText("Loading your tokens…")).not.toBeInTheDocument();
    expect(screen.queryByText("No API tokens yet.")).not.toBeInTheDocument();
  });
});
