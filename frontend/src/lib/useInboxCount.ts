import { useEffect, useRef, useState } from "react";
import { ApiError, api } from "../api/client";
import { onInboxChanged } from "./memoryEvents";

// Beat delivers due reminders every minute. The badge looks once a minute, and every few
// seconds while a reminder is about due (so it shows soon after delivery), and at once when
// the app comes back into view or a reminder changed here.
const IDLE_MS = 60_000;
const NEAR_MS = 10_000;
const NEAR_WINDOW_MS = 2 * 60_000; // before a reminder is due, and after (beat's lag)

/** How often to look next, given the soonest pending reminder's time. */
export function nextCheckIn(nextDue: string | null, now: number = Date.now()): number {
  if (!nextDue) return IDLE_MS;
  const until = Date.parse(nextDue) - now;
  return until < NEAR_WINDOW_MS && until > -NEAR_WINDOW_MS ? NEAR_MS : IDLE_MS;
}

/** How many reminders are due (the navigation's "Inbox N"). */
export function useInboxCount(onUnauthorized: () => void): number {
  const [count, setCount] = useState(0);
  const unauthorized = useRef(onUnauthorized);
  unauthorized.current = onUnauthorized;

  useEffect(() => {
    let controller = new AbortController();
    let timer = 0;
    const refresh = () => {
      controller.abort();
      controller = new AbortController();
      window.clearTimeout(timer);
      const { signal } = controller;
      Promise.all([api.inbox(1, signal), api.nextReminder(signal)])
        .then(([inbox, next]) => {
          setCount(inbox.count);
          timer = window.setTimeout(refresh, nextCheckIn(next?.remind_at ?? null));
        })
        .catch((caught: unknown) => {
          if (signal.aborted) return;
          if (caught instanceof ApiError && caught.status === 401) {
            unauthorized.current();
            return;
          }
          // Offline or a hiccup: keep the last count and look again later.
          timer = window.setTimeout(refresh, IDLE_MS);
        });
    };
    const visible = () => {
      if (document.visibilityState === "visible") refresh();
    };
    refresh();
    document.addEventListener("visibilitychange", visible);
    const stop = onInboxChanged(refresh);
    return () => {
      controller.abort();
      window.clearTimeout(timer);
      document.removeEventListener("visibilitychange", visible);
      stop();
    };
  }, []);

  return count;
}
