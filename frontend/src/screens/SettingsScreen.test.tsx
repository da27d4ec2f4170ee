import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, render, screen } from "@testing-library/react";
import { account, json, problem, stubFetch } from "../test/helpers";
import { freshOfflineState } from "../test/offline";
import { SessionContext } from "../lib/session";
import { SettingsScreen } from "./SettingsScreen";

beforeEach(freshOfflineState);
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function showSettings(tokens: () => Response) {
  stubFetch((url) => {
    if (url.startsWith("/api/v1/tokens")) return tokens();
    if (url === "/api/v1/usage") return problem(503, "unavailable", "Usage is resting.");
    return problem(404, "not_found", "Not found.");
  });
  render(
    <SessionContext.Provider value={{ user: account(), setUser: () => undefined }}>
      <SettingsScreen onUnauthorized={() => undefined} />
    </SessionContext.Provider>,
  );
}

describe("the API tokens section", () => {
  it("says it is loading, then that there are none", async () => {
    showSettings(() => json({ results: [], next: null, previous: null }));
    expect(screen.getByText("Loading your tokens…")).toBeInTheDocument();
    expect(await screen.findByText("No API tokens yet.")).toBeInTheDocument();
    expect(screen.queryByText("Loading your tokens…")).toBeNull();
  });

  it("says why the list could not load, with the server's reason", async () => {
    showSettings(() => problem(503, "unavailable", "Tokens are resting."));
    expect(await screen.findByText("Tokens are resting.")).toHaveAttribute("role", "alert");
    expect(screen.queryByText("Loading your tokens…")).toBeNull();
    expect(screen.queryByText("No API tokens yet.")).toBeNull();
  });
});
