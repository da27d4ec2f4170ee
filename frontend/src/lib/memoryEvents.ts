// Tells the screens that are mounted what changed elsewhere: a memory that came back (an
// undone delete) for the list, reminders that changed for the inbox count, and memories saved
// or pairs decided for the "Possible duplicates" link.
import type { Memory } from "../api/client";

const events = new EventTarget();

export function announceRestored(memory: Memory): void {
  events.dispatchEvent(new CustomEvent<Memory>("restored", { detail: memory }));
}

/** Calls `listener` with each restored memory until the returned function is called. */
export function onRestored(listener: (memory: Memory) => void): () => void {
  const handler = (event: Event) => listener((event as CustomEvent<Memory>).detail);
  events.addEventListener("restored", handler);
  return () => events.removeEventListener("restored", handler);
}

const inbox = new EventTarget();

/** Reminders were added, done, snoozed or dismissed: the inbox count is stale. */
export function announceInboxChanged(): void {
  inbox.dispatchEvent(new Event("changed"));
}

export function onInboxChanged(listener: () => void): () => void {
  inbox.addEventListener("changed", listener);
  return () => inbox.removeEventListener("changed", listener);
}

const duplicates = new EventTarget();

/** A pair was merged, undone or kept: the "Possible duplicates" link may be stale. */
export function announceDuplicatesChanged(): void {
  duplicates.dispatchEvent(new Event("changed"));
}

export function onDuplicatesChanged(listener: () => void): () => void {
  duplicates.addEventListener("changed", listener);
  return () => duplicates.removeEventListener("changed", listener);
}

/** A memory was saved (captured or edited): the worker embeds it within seconds, and may find
 * it a near-duplicate. */
export function announceMemorySaved(): void {
  duplicates.dispatchEvent(new Event("saved"));
}

export function onMemorySaved(listener: () => void): () => void {
  duplicates.addEventListener("saved", listener);
  return () => duplicates.removeEventListener("saved", listener);
}
