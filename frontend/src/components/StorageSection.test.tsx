import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, render, screen, within } from "@testing-library/react";
import { StorageSection } from "./StorageSection";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function withEstimate(usage: number, quota: number) {
  vi.stubGlobal("navigator", Object.assign(Object.create(navigator), { storage: { estimate: async () => ({ usage, quota }) } }));
}

describe("StorageSection", () => {
  it("shows the used and available space", async () => {
    withEstimate(12_000_000, 100_000_000);
    render(<StorageSection />);
    const region = screen.getByRole("region", { name: "Storage" });
    expect(await within(region).findByText(/12 MB \(12 %\)/)).toBeInTheDocument();
    expect(within(region).getByText("88 MB")).toBeInTheDocument();
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
  });

  it("warns when 80 % or more is used, with a way to export", async () => {
    withEstimate(85, 100);
    render(<StorageSection />);
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent(/storage/);
    expect(within(alert).getByRole("link", { name: /export/ })).toHaveAttribute("href", "/api/v1/export");
  });

  it("says so when the browser does not tell", async () => {
    vi.stubGlobal("navigator", Object.assign(Object.create(navigator), { storage: undefined }));
    render(<StorageSection />);
    expect(await screen.findByText(/does not say/)).toBeInTheDocument();
  });
});
