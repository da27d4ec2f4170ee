import { StrictMode } from "react";
import { cleanup, render, screen, waitFor } from "@testing-library/react";
import { MemoryRouter, Route, Routes, useLocation } from "react-router";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { listEntries } from "../offline/queue";
import { freshOfflineState } from "../test/offline";
import { ShareScreen } from "./ShareScreen";

function Where() {
  const location = useLocation();
  return <p data-testid="where">{location.pathname + location.search}</p>;
}

function renderAt(path: string) {
  return render(
    <StrictMode>
      <MemoryRouter initialEntries={[path]}>
        <Routes>
          <Route path="/share" element={<ShareScreen />} />
          <Route path="/" element={<Where />} />
        </Routes>
      </MemoryRouter>
    </StrictMode>,
  );
}

beforeEach(freshOfflineState);
afterEach(cleanup);

describe("ShareScreen", () => {
  it("queues the bookmarklet's page once and opens the list on it", async () => {
    renderAt("/share?url=https%3A%2F%2Fexample.com%2Fa&title=An+article");
    const where = await screen.findByTestId("where");
    const entries = await listEntries();
    expect(entries).toHaveLength(1);
    expect(entries[0]?.payload).toEqual({ content: "An article", kind: "link", url: "https://example.com/a" });
    expect(where.textContent).toBe(`/?shared=${encodeURIComponent(entries[0]?.memoryId ?? "")}`);
  });

  it("opens the list with nothing queued when nothing was shared", async () => {
    renderAt("/share?title=%20");
    await waitFor(() => expect(screen.getByTestId("where").textContent).toBe("/"));
    expect(await listEntries()).toHaveLength(0);
  });
});
