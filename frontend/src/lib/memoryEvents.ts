// Tells the screens that are mounted about a memory that came back (an undone delete), so the
// list shows it without a reload.
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
