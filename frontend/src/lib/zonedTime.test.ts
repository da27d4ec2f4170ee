import { describe, expect, it } from "vitest";
import { formatInZone, fromDateTimeLocal, snoozeUntil, wallClock } from "./zonedTime";

// Thursday 5 March 2026, 13:20 UTC: 14:20 in Berlin, 08:20 in New York, 00:20 Friday in Sydney.
const NOW = new Date("2026-03-05T13:20:00Z");

describe("wallClock", () => {
  it("reads the clock of another zone than the browser's", () => {
    expect(wallClock("Europe/Berlin", NOW)).toEqual({ year: 2026, month: 3, day: 5, hour: 14, minute: 20, weekday: 3 });
    expect(wallClock("Australia/Sydney", NOW)).toMatchObject({ day: 6, hour: 0, weekday: 4 });
  });
});

describe("snoozeUntil", () => {
  it("gives an instant for in 1 hour and wall-clock times in the account's zone for the rest", () => {
    expect(snoozeUntil("in-1-hour", "Europe/Berlin", NOW)).toBe("2026-03-05T14:20:00.000Z");
    expect(snoozeUntil("this-evening", "Europe/Berlin", NOW)).toBe("2026-03-05T18:00:00");
    expect(snoozeUntil("tomorrow-morning", "Europe/Berlin", NOW)).toBe("2026-03-06T09:00:00");
    expect(snoozeUntil("next-week", "Europe/Berlin", NOW)).toBe("2026-03-09T09:00:00");
  });

  it("moves this evening to tomorrow once 18:00 has passed, and crosses month ends", () => {
    const late = new Date("2026-03-31T19:30:00Z"); // 21:30 in Berlin (summer time)
    expect(snoozeUntil("this-evening", "Europe/Berlin", late)).toBe("2026-04-01T18:00:00");
    expect(snoozeUntil("tomorrow-morning", "Europe/Berlin", late)).toBe("2026-04-01T09:00:00");
  });

  it("counts days in the account's zone, not the browser's", () => {
    // Already Friday in Sydney: tomorrow is Saturday there, next week the Monday after.
    expect(snoozeUntil("tomorrow-morning", "Australia/Sydney", NOW)).toBe("2026-03-07T09:00:00");
    expect(snoozeUntil("next-week", "Australia/Sydney", NOW)).toBe("2026-03-09T09:00:00");
  });
});

describe("formatting", () => {
  it("shows an instant on the account's clock", () => {
    expect(formatInZone("2026-03-05T17:00:00Z", "Europe/Berlin")).toMatch(/6:00/);
    expect(formatInZone("not a date", "Europe/Berlin")).toBe("");
  });

  it("turns a datetime-local value into the API's wall-clock string", () => {
    expect(fromDateTimeLocal("2026-03-05T18:00")).toBe("2026-03-05T18:00:00");
  });
});
