// Times on the wall clock of the account's time zone (GET /me `time_zone`), which may not be
// the browser's. The API reads a date-time without an offset in that zone (API.md), so the app
// sends wall-clock strings for "this evening" and reads instants back with Intl.

export interface WallClock {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  /** 0 = Monday … 6 = Sunday */
  weekday: number;
}

const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/** The browser's IANA zone ("UTC" when it does not say). */
export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

/** What the clocks in `timeZone` show at `now`. */
export function wallClock(timeZone: string, now: Date = new Date()): WallClock {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    weekday: "short",
  }).formatToParts(now);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? "";
  return {
    year: Number(part("year")),
    month: Number(part("month")),
    day: Number(part("day")),
    hour: Number(part("hour")),
    minute: Number(part("minute")),
    weekday: WEEKDAYS.indexOf(part("weekday")),
  };
}

const pad = (n: number) => String(n).padStart(2, "0");

/** "YYYY-MM-DDTHH:MM:00" for the day `days` after `clock`'s, at `hour`:`minute`. */
export function wallClockString(clock: WallClock, days: number, hour: number, minute = 0): string {
  const date = new Date(Date.UTC(clock.year, clock.month - 1, clock.day + days));
  return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}T${pad(hour)}:${pad(minute)}:00`;
}

export type SnoozePreset = "in-1-hour" | "this-evening" | "tomorrow-morning" | "next-week";

export const SNOOZE_PRESETS: readonly { id: SnoozePreset; label: string }[] = [
  { id: "in-1-hour", label: "In 1 hour" },
  { id: "this-evening", label: "This evening" },
  { id: "tomorrow-morning", label: "Tomorrow morning" },
  { id: "next-week", label: "Next week" },
];

/** The `until` of a snooze preset: an instant for "in 1 hour", else a wall-clock time in
 * `timeZone` (this evening 18:00, or tomorrow's once 18:00 has passed; tomorrow 09:00; next
 * Monday 09:00), as the server's presets are (reminders/recurrence.py). */
export function snoozeUntil(preset: SnoozePreset, timeZone: string, now: Date = new Date()): string {
  const clock = wallClock(timeZone, now);
  switch (preset) {
    case "in-1-hour":
      return new Date(now.getTime() + 3_600_000).toISOString();
    case "this-evening":
      return wallClockString(clock, clock.hour < 18 ? 0 : 1, 18);
    case "tomorrow-morning":
      return wallClockString(clock, 1, 9);
    case "next-week":
      return wallClockString(clock, 7 - clock.weekday, 9);
  }
}

/** An instant as the account's zone shows it ("Thu, Mar 5, 6:00 PM"). */
export function formatInZone(iso: string, timeZone: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return new Intl.DateTimeFormat(undefined, {
    timeZone,
    weekday: "short",
    month: "short",
    day: "numeric",
    hour: "numeric",
    minute: "2-digit",
  }).format(date);
}

/** A datetime-local input's value ("2026-03-05T18:00") as the API's wall-clock string. */
export function fromDateTimeLocal(value: string): string {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(value) ? `${value}:00` : value;
}
