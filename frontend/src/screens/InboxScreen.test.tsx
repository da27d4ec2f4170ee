import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { InboxScreen } from "./InboxScreen";
import { onInboxChanged } from "../lib/memoryEvents";
import { timeZoneToDefault } from "../lib/session";
import { account, json, problem, stubFetch, type Call } from "../test/helpers";
import { WithSession } from "../test/session";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

function item(id: string, title: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    memory: { id: `m-${id}`, title, excerpt: `About ${title}`, url: "" },
    remind_at: "2026-03-05T13:00:00Z",
    time_zone: "Europe/Berlin",
    recurrence: null,
    state: "due",
    source: "user",
    phrase: null,
    overdue: false,
    created_at: "2026-03-04T10:00:00Z",
    ...extra,
  };
}

function renderInbox(onUnauthorized = vi.fn()) {
  render(
    <MemoryRouter>
      <WithSession>
        <InboxScreen onUnauthorized={onUnauthorized} />
      </WithSession>
    </MemoryRouter>,
  );
  return onUnauthorized;
}

const posts = (calls: Call[]) => calls.filter((call) => call.init.method === "POST");

describe("InboxScreen", () => {
  it("lists due reminders with their memory, and Done takes one out", async () => {
    const calls = stubFetch((url) =>
      url.startsWith("/api/v1/reminders/inbox")
        ? json({ count: 2, results: [item("r1", "Call the bank", { overdue: true }), item("r2", "Water the plants")] })
        : json({ ...item("r1", "Call the bank"), state: "done" }),
    );
    const changed = vi.fn();
    const stop = onInboxChanged(changed);
    renderInbox();

    const list = await screen.findByRole("list", { name: "Due reminders" });
    const rows = within(list).getAllByRole("listitem");
    expect(rows).toHaveLength(2);
    expect(within(rows[0]!).getByRole("link", { name: "Call the bank" })).toHaveAttribute("href", "/memories/m-r1");
    expect(rows[0]).toHaveTextContent("delivered late");

    await userEvent.setup().click(within(rows[0]!).getByRole("button", { name: "Done" }));

    expect(await screen.findByText("Done: Call the bank.")).toBeInTheDocument();
    expect(within(list).getAllByRole("listitem")).toHaveLength(1);
    expect(posts(calls).map((call) => call.url)).toEqual(["/api/v1/reminders/r1/done"]);
    expect(changed).toHaveBeenCalledTimes(1);
    stop();
  });

  it("snoozes with a preset on the account's clock, from a keyboard-usable menu", async () => {
    vi.useFakeTimers({ now: new Date("2026-03-05T13:20:00Z"), toFake: ["Date"] });
    const calls = stubFetch((url) =>
      url.startsWith("/api/v1/reminders/inbox")
        ? json({ count: 1, results: [item("r1", "Call the bank")] })
        : json({ ...item("r1", "Call the bank"), state: "snoozed" }),
    );
    renderInbox();
    const user = userEvent.setup();
    const row = (await screen.findAllByRole("listitem"))[0]!;

    await user.click(within(row).getByRole("button", { name: "Snooze" }));
    const menu = screen.getByRole("menu");
    expect(within(menu).getAllByRole("menuitem").map((m) => m.textContent)).toEqual([
      "In 1 hour",
      "This evening",
      "Tomorrow morning",
      "Next week",
      "Pick a time",
    ]);
    expect(within(menu).getByRole("menuitem", { name: "In 1 hour" })).toHaveFocus();
    await user.keyboard("{ArrowDown}");
    expect(within(menu).getByRole("menuitem", { name: "This evening" })).toHaveFocus();
    await user.keyboard("{Enter}");

    expect(await screen.findByText("Snoozed: Call the bank.")).toBeInTheDocument();
    const [snooze] = posts(calls);
    expect(snooze!.url).toBe("/api/v1/reminders/r1/snooze");
    expect(snooze!.body).toEqual({ until: "2026-03-05T18:00:00" }); // 18:00 in Berlin
    expect(screen.queryByRole("listitem")).not.toBeInTheDocument();
  });

  it("snoozes until a picked time, and Escape closes the menu", async () => {
    const calls = stubFetch((url) =>
      url.startsWith("/api/v1/reminders/inbox")
        ? json({ count: 1, results: [item("r1", "Call the bank")] })
        : json({ ...item("r1", "Call the bank"), state: "snoozed" }),
    );
    renderInbox();
    const user = userEvent.setup();
    const row = (await screen.findAllByRole("listitem"))[0]!;
    const snooze = within(row).getByRole("button", { name: "Snooze" });

    await user.click(snooze);
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("menu")).not.toBeInTheDocument();
    expect(snooze).toHaveFocus();

    await user.click(snooze);
    await user.click(screen.getByRole("menuitem", { name: "Pick a time" }));
    const field = screen.getByLabelText("Snooze until");
    await user.type(field, "2026-03-07T10:30");
    await user.click(within(row).getAllByRole("button", { name: "Snooze" }).at(-1)!);

    expect(posts(calls)[0]!.body).toEqual({ until: "2026-03-07T10:30:00" });
  });

  it("shows the server's reason when an action fails, and keeps the reminder", async () => {
    stubFetch((url) =>
      url.startsWith("/api/v1/reminders/inbox")
        ? json({ count: 1, results: [item("r1", "Call the bank")] })
        : problem(400, "invalid", "until: until must be in the future."),
    );
    renderInbox();
    const user = userEvent.setup();
    const row = (await screen.findAllByRole("listitem"))[0]!;
    await user.click(within(row).getByRole("button", { name: "Dismiss" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("until must be in the future");
    expect(screen.getAllByRole("listitem")).toHaveLength(1);
  });

  it("says when nothing is due, and signs out on 401", async () => {
    stubFetch(() => json({ count: 0, results: [] }));
    renderInbox();
    expect(await screen.findByText(/Nothing is due/)).toBeInTheDocument();
    cleanup();
    stubFetch(() => problem(401, "not_authenticated", "Sign in."));
    const onUnauthorized = renderInbox();
    await vi.waitFor(() => expect(onUnauthorized).toHaveBeenCalled());
  });
});

describe("timeZoneToDefault", () => {
  it("gives a new account the browser's zone once, and never overrides a choice", () => {
    localStorage.clear();
    expect(timeZoneToDefault(account({ id: 7, time_zone: "UTC" }), "Europe/Berlin")).toBe("Europe/Berlin");
    expect(timeZoneToDefault(account({ id: 7, time_zone: "UTC" }), "Europe/Berlin")).toBeNull();
    expect(timeZoneToDefault(account({ id: 8, time_zone: "Asia/Tokyo" }), "Europe/Berlin")).toBeNull();
    expect(timeZoneToDefault(account({ id: 9, time_zone: "UTC" }), "UTC")).toBeNull();
  });
});
