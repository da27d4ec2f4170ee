// What the offline core tells the screens: the queue changed (the "N waiting to sync" count, a
// row's state), a replayed edit met a real conflict (the "Edit conflict" dialog), storage is
// full (the banner), the session ended (sign in again), the device's copy changed (the list).
// Other tabs hear the same through a BroadcastChannel, so a save made in one tab shows, and is
// replayed, in every tab. Plain EventTarget, no React: the service worker can run this code.
import type { Memory } from "../api/client";
import type { QueueEntry } from "./db";

export type OfflineEvent =
  | { type: "queue" }
  /** A save was just queued: a replay should start (in whichever tab holds the lock). */
  | { type: "enqueued" }
  | { type: "copy" }
  /** A queued create reached the server (`duplicate`: the server already had it and answered
   * with the existing memory). */
  | { type: "created"; key: string; memory: Memory; duplicate: boolean }
  | { type: "conflict"; entry: QueueEntry; theirs: Memory }
  | { type: "storage-full" }
  | { type: "signed-out" };

export const CHANNEL_NAME = "memory-connector-offline";

const local = new EventTarget();
let channel: BroadcastChannel | null | undefined;

function broadcastChannel(): BroadcastChannel | null {
  if (channel === undefined) {
    channel = typeof BroadcastChannel === "function" ? new BroadcastChannel(CHANNEL_NAME) : null;
    channel?.addEventListener("message", (message: MessageEvent) => {
      const event = message.data as OfflineEvent | null;
      if (event && typeof event.type === "string") deliver(event, true);
    });
  }
  return channel;
}

function deliver(event: OfflineEvent, fromAnotherTab: boolean): void {
  local.dispatchEvent(new CustomEvent("offline", { detail: { event, fromAnotherTab } }));
}

/** Tells this tab's listeners and, for the events that concern them, the other tabs. */
export function emit(event: OfflineEvent): void {
  deliver(event, false);
  // A conflict and storage-full are this tab's to show (its replay, its memory); the queue and
  // the copy are shared by all tabs (and a create's answer: the tab that saved it may not be the
  // one whose replay sent it).
  if (event.type === "queue" || event.type === "enqueued" || event.type === "copy" || event.type === "created") {
    try {
      broadcastChannel()?.postMessage(event);
    } catch {
      // A closed channel (page going away): the other tabs read the database when they wake.
    }
  }
}

/** Calls `listener` with each event (`fromAnotherTab` for those another tab sent) until the
 * returned function is called. */
export function subscribe(listener: (event: OfflineEvent, fromAnotherTab: boolean) => void): () => void {
  broadcastChannel();
  const handler = (event: Event) => {
    const { event: offline, fromAnotherTab } = (event as CustomEvent<{ event: OfflineEvent; fromAnotherTab: boolean }>)
      .detail;
    listener(offline, fromAnotherTab);
  };
  local.addEventListener("offline", handler);
  return () => local.removeEventListener("offline", handler);
}

/** Closes the channel (tests; a page that is going away). */
export function closeChannel(): void {
  channel?.close();
  channel = undefined;
}
