import { useEffect, useRef, useState } from "react";
import { ApiError, api } from "../api/client";
import { onDuplicatesChanged, onMemorySaved } from "./memoryEvents";

// The worker finds pairs after it embeds a memory, seconds after the save. The link looks
// once a minute, at once when the app comes back into view or a pair was decided here, and a
// few times soon after a save (embedding takes longer when the worker is busy).
export const IDLE_MS = 60_000;
export const AFTER_SAVE_MS: readonly number[] = [3_000, 10_000, 30_000];

/** How many near-duplicate pairs are open (the navigation shows "Possible duplicates" when
 * there are any). Asks for one pair only: the answer's `count` is all of them. */
export function useDuplicatesCount(onUnauthorized: () => void): number {
  const [count, setCount] = useState(0);
  const unauthorized = useRef(onUnauthorized);
  unauthorized.current = onUnauthorized;

  useEffect(() => {
    let controller = new AbortController();
    let poll = 0;
    let afterSave: number[] = [];
    const refresh = () => {
      controller.abort();
      controller = new AbortController();
      window.clearTimeout(poll);
      const { signal } = controller;
      api
        .nearDuplicates(1, signal)
        .then((pairs) => setCount(pairs.count))
        .catch((caught: unknown) => {
          if (signal.aborted) return;
          if (caught instanceof ApiError && caught.status === 401) unauthorized.current();
          // Offline or a hiccup: keep the last answer and look again later.
        })
        .finally(() => {
          if (!signal.aborted) poll = window.setTimeout(refresh, IDLE_MS);
        });
    };
    const saved = () => {
      afterSave.forEach((timer) => window.clearTimeout(timer));
      afterSave = AFTER_SAVE_MS.map((delay) => window.setTimeout(refresh, delay));
    };
    const visible = () => {
      if (document.visibilityState === "visible") refresh();
    };
    refresh();
    document.addEventListener("visibilitychange", visible);
    const stopChanged = onDuplicatesChanged(refresh);
    const stopSaved = onMemorySaved(saved);
    return () => {
      controller.abort();
      window.clearTimeout(poll);
      afterSave.forEach((timer) => window.clearTimeout(timer));
      document.removeEventListener("visibilitychange", visible);
      stopChanged();
      stopSaved();
    };
  }, []);

  return count;
}
