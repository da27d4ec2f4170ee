import { useCallback, useEffect, useState } from "react";
import { ApiError } from "../api/client";

export type ListLoad = { state: "loading" } | { state: "ready" } | { state: "error"; message: string };

/** The server's problem `detail` of a failed call, or `fallback` when it had none. */
export function problemMessage(caught: unknown, fallback: string): string {
  return caught instanceof ApiError ? caught.detail : fallback;
}

/** A screen's list that the server pages with `{count, results}` (the inbox, the possible
 * duplicates): fetched on mount and by `refresh`, a 401 handed to `onUnauthorized`. The
 * items and count are the screen's to change as the user acts on them. `fetchPage` must be
 * stable (defined outside the component). */
export function useCountedList<T>(
  fetchPage: (signal?: AbortSignal) => Promise<{ count: number; results: T[] }>,
  failure: string,
  onUnauthorized: () => void,
) {
  const [load, setLoad] = useState<ListLoad>({ state: "loading" });
  const [items, setItems] = useState<T[]>([]);
  const [count, setCount] = useState(0);

  const refresh = useCallback(
    (signal?: AbortSignal) =>
      fetchPage(signal)
        .then((page) => {
          setItems(page.results);
          setCount(page.count);
          setLoad({ state: "ready" });
        })
        .catch((caught: unknown) => {
          if (signal?.aborted) return;
          if (caught instanceof ApiError && caught.status === 401) onUnauthorized();
          else setLoad({ state: "error", message: problemMessage(caught, failure) });
        }),
    [fetchPage, failure, onUnauthorized],
  );

  useEffect(() => {
    const controller = new AbortController();
    void refresh(controller.signal);
    return () => controller.abort();
  }, [refresh]);

  return { load, items, setItems, count, setCount, refresh };
}
