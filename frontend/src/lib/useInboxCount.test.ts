import { describe, expect, it } from "vitest";
import { nextCheckIn } from "./useInboxCount";

const NOW = Date.parse("2026-03-05T13:20:00Z");

describe("nextCheckIn", () => {
  it("looks every minute, and every 10 s around a reminder's time", () => {
    expect(nextCheckIn(null, NOW)).toBe(60_000);
    expect(nextCheckIn("2026-03-05T15:00:00Z", NOW)).toBe(60_000);
    expect(nextCheckIn("2026-03-05T13:21:30Z", NOW)).toBe(10_000); // due in 90 s
    expect(nextCheckIn("2026-03-05T13:19:00Z", NOW)).toBe(10_000); // due, not delivered yet
    expect(nextCheckIn("2026-03-05T13:10:00Z", NOW)).toBe(60_000);
  });
});
