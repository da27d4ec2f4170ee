import { beforeEach, describe, expect, it } from "vitest";
import { hasHeldEntries, listEntries } from "../offline/queue";
import { fillStorage, freshOfflineState } from "../test/offline";
import { queueShare } from "./queueShare";

beforeEach(freshOfflineState);

describe("queueShare", () => {
  it("queues one create and opens the list on it", async () => {
    const queued = await queueShare({ title: "Soup", text: "https://example.com/soup", url: "" });
    const entries = await listEntries();
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      key: queued.key,
      operation: "create",
      state: "waiting",
      payload: { content: "Soup", kind: "link", url: "https://example.com/soup" },
    });
    expect(queued.location).toBe(`/?shared=${encodeURIComponent(entries[0]?.memoryId ?? "")}`);
  });

  it("opens the list with nothing queued when nothing was shared", async () => {
    expect(await queueShare({ title: "", text: " " })).toEqual({ location: "/", key: null });
    expect(await listEntries()).toEqual([]);
  });

  it.each(["throw", "abort"] as const)(
    "hands a share it cannot store (%s) to the app's page instead of keeping it",
    async (form) => {
      const full = fillStorage(form);
      const queued = await queueShare({ title: "Soup", text: "Roast first https://example.com/soup" });
      full.mockRestore();
      expect(queued.key).toBeNull();
      const location = new URL(queued.location, "https://app.example");
      expect(location.pathname).toBe("/share");
      expect(Object.fromEntries(location.searchParams)).toEqual({
        in_app: "1",
        title: "Soup",
        text: "Roast first https://example.com/soup",
      });
      expect(hasHeldEntries()).toBe(false);
      expect(await listEntries()).toEqual([]);
    },
  );
});
