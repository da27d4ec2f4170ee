import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { CaptureForm, toMemoryCreate } from "./CaptureForm";
import { json, memory, problem, stubFetch } from "../test/helpers";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("toMemoryCreate", () => {
  it("sends only what was filled in, with tags as a list", () => {
    expect(toMemoryCreate({ content: "Text", title: " ", url: "", tags: "a, b ,a", kind: "idea", remindAt: "" })).toEqual({
      content: "Text",
      kind: "idea",
      tags: ["a", "b"],
    });
    expect(
      toMemoryCreate({ content: "Text", title: " T ", url: " https://example.com ", tags: "", kind: "link", remindAt: "" }),
    ).toEqual({ content: "Text", kind: "link", title: "T", url: "https://example.com" });
  });

  it("sends Remind me as a wall-clock time, which the server reads in the account's zone", () => {
    const fields = { content: "Text", title: "", url: "", tags: "", kind: "note" as const, remindAt: "2026-03-06T09:00" };
    expect(toMemoryCreate(fields)).toEqual({ content: "Text", kind: "note", remind_at: "2026-03-06T09:00:00" });
  });
});

describe("CaptureForm", () => {
  it("saves the memory with an Idempotency-Key and clears the form", async () => {
    const saved = {
      ...memory("m1", "To be", {
        kind: "quote",
        tags: ["plays", "classics"],
        enrichment_status: "pending",
      }),
      duplicate: false,
    };
    const calls = stubFetch(() => json(saved, 201));
    const onSaved = vi.fn();
    render(<CaptureForm onSaved={onSaved} />);
    const user = userEvent.setup();
    await user.type(screen.getByRole("textbox", { name: "Memory" }), "To be");
    await user.type(screen.getByRole("textbox", { name: "Tags" }), "plays, classics");
    await user.selectOptions(screen.getByRole("combobox", { name: "Kind" }), "quote");
    await user.click(screen.getByRole("button", { name: "Save" }));
    await vi.waitFor(() => expect(onSaved).toHaveBeenCalledWith(saved));
    expect(calls[0]!.body).toEqual({ content: "To be", kind: "quote", tags: ["plays", "classics"] });
    expect(calls[0]!.headers.get("Idempotency-Key")).toBeTruthy();
    expect(screen.getByRole("textbox", { name: "Memory" })).toHaveValue("");
  });

  it("keeps the text and shows the detail when the server refuses", async () => {
    stubFetch(() => problem(402, "quota_exceeded", "Your plan's memory limit is reached."));
    render(<CaptureForm onSaved={vi.fn()} />);
    const user = userEvent.setup();
    await user.type(screen.getByRole("textbox", { name: "Memory" }), "Keep me");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Your plan's memory limit is reached.");
    expect(screen.getByRole("textbox", { name: "Memory" })).toHaveValue("Keep me");
  });
});
