// The offline core (src/offline/) as React hooks: what the screens read is the device's copy
// with the queue on top, re-read whenever this tab or another one changes either.
import { useCallback, useEffect, useRef, useState } from "react";
import { getFromCopy, readCopy, type OfflineMemory } from "../offline/copy";
import { subscribe, type OfflineEvent } from "../offline/events";
import { pendingCount } from "../offline/queue";

/** Calls `listener` with each offline event (this tab's and the other tabs'). */
export function useOfflineEvents(listener: (event: OfflineEvent, fromAnotherTab: boolean) => void): void {
  const current = useRef(listener);
  current.current = listener;
  useEffect(() => subscribe((event, fromAnotherTab) => current.current(event, fromAnotherTab)), []);
}

const CHANGES: ReadonlySet<OfflineEvent["type"]> = new Set(["queue", "copy"]);

/** Runs `read` now and after every change of the queue or the copy; the latest answer wins. */
function useLiveRead<T>(read: () => Promise<T>, initial: T): { value: T; loaded: boolean; refresh: () => void } {
  const [value, setValue] = useState<T>(initial);
  const [loaded, setLoaded] = useState(false);
  const generation = useRef(0);
  const reader = useRef(read);
  reader.current = read;

  const refresh = useCallback(() => {
    const mine = ++generation.current;
    reader
      .current()
      .then((next) => {
        if (mine !== generation.current) return;
        setValue(next);
        setLoaded(true);
      })
      .catch(() => {
        if (mine === generation.current) setLoaded(true);
      });
  }, []);

  useEffect(() => {
    refresh();
    return () => {
      generation.current++;
    };
  }, [refresh]);
  useOfflineEvents((event) => {
    if (CHANGES.has(event.type)) refresh();
  });
  return { value, loaded, refresh };
}

/** "N waiting to sync": every save not on the server yet. */
export function usePendingCount(): number {
  return useLiveRead(pendingCount, 0).value;
}

/** Every memory on the device, newest first, the user's pending saves on top. */
export function useDeviceMemories(): { memories: OfflineMemory[]; loaded: boolean } {
  const { value, loaded } = useLiveRead(readCopy, [] as OfflineMemory[]);
  return { memories: value, loaded };
}

/** One memory from the device (undefined while reading, null when the device has none). */
export function useDeviceMemory(id: string): { memory: OfflineMemory | null | undefined; refresh: () => void } {
  const read = useCallback(() => getFromCopy(id), [id]);
  const { value, loaded, refresh } = useLiveRead<OfflineMemory | null>(read, null);
  useEffect(refresh, [id, refresh]);
  return { memory: loaded ? value : undefined, refresh };
}
