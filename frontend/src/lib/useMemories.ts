import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, api, cursorFrom, type Memory } from "../api/client";
import { onRestored } from "./memoryEvents";

export type ListState = "loading" | "ready" | "error";

/** Puts a memory at the top of a list, dropping an older copy of it. */
export function prepend(list: Memory[], memory: Memory): Memory[] {
  return [memory, ...list.filter((m) => m.id !== memory.id)];
}

/** Puts a memory in its place in a list of memories newest first (by created_at, then id,
 * the API's order), dropping an older copy of it. */
export function insertInOrder(list: Memory[], memory: Memory): Memory[] {
  const rest = list.filter((m) => m.id !== memory.id);
  const time = Date.parse(memory.created_at);
  const newer = (m: Memory) => {
    const other = Date.parse(m.created_at);
    return other > time || (other === time && m.id > memory.id);
  };
  const at = rest.findIndex((m) => !newer(m));
  return at < 0 ? [...rest, memory] : [...rest.slice(0, at), memory, ...rest.slice(at)];
}

/** Appends a page, skipping memories already shown (a memory saved meanwhile can shift pages). */
export function appendPage(list: Memory[], page: Memory[]): Memory[] {
  const ids = new Set(list.map((m) => m.id));
  return [...list, ...page.filter((m) => !ids.has(m.id))];
}

/** The signed-in user's memories, newest first, one cursor page at a time. */
export function useMemories(onUnauthorized: () => void) {
  const [memories, setMemories] = useState<Memory[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [state, setState] = useState<ListState>("loading");
  const [error, setError] = useState("");
  const [loadingMore, setLoadingMore] = useState(false);
  const inFlight = useRef(false);
  const unauthorized = useRef(onUnauthorized);
  unauthorized.current = onUnauthorized;

  const fail = useCallback((caught: unknown) => {
    if (caught instanceof DOMException && caught.name === "AbortError") return;
    if (caught instanceof ApiError && caught.status === 401) {
      unauthorized.current();
      return;
    }
    setError(caught instanceof ApiError ? caught.detail : "Could not load your memories.");
  }, []);

  useEffect(() => {
    const controller = new AbortController();
    api
      .listMemories(null, controller.signal)
      .then((page) => {
        setMemories(page.results);
        setCursor(cursorFrom(page.next));
        setState("ready");
      })
      .catch((caught: unknown) => {
        if (controller.signal.aborted) return;
        fail(caught);
        setState("error");
      });
    return () => controller.abort();
  }, [fail]);

  const loadMore = useCallback(() => {
    if (!cursor || inFlight.current) return;
    inFlight.current = true;
    setLoadingMore(true);
    api
      .listMemories(cursor)
      .then((page) => {
        setMemories((current) => appendPage(current, page.results));
        setCursor(cursorFrom(page.next));
        setError("");
      })
      .catch(fail)
      .finally(() => {
        inFlight.current = false;
        setLoadingMore(false);
      });
  }, [cursor, fail]);

  useEffect(() => onRestored((memory) => setMemories((current) => insertInOrder(current, memory))), []);

  const add = useCallback((memory: Memory) => setMemories((current) => prepend(current, memory)), []);

  return { memories, state, error, hasMore: cursor !== null, loadingMore, loadMore, add };
}
