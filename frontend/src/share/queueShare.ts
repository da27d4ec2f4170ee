// What the service worker does with a share (POST /share from Android's share sheet, GET /share
// from the bookmarklet): queue it and say where the app opens. Apart from sw.ts so it can be
// tested without a worker.
import { enqueueCreate, hasHeldEntries, removeEntry } from "../offline/queue";
import { memoryFromShare, sharedLocation, type SharedFields } from "./fromShare";

/** The query parameter that sends a share on to the app's own /share route (the worker lets
 * such a navigation through). */
export const IN_APP = "in_app";

export interface QueuedShare {
  /** Where the app opens (a same-origin path). */
  location: string;
  /** The queued entry's key, or null when nothing was queued here. */
  key: string | null;
}

/** Queues what was shared as a create; the app then opens on it ("/?shared=<local id>"), or on
 * the list when nothing was shared. When the save could only be kept in memory (a full disk)
 * or not at all, the worker must not keep it (its memory ends with it): it is taken back and
 * the app's /share route gets the fields, so the page keeps it, shows the storage banner and
 * sends it. */
export async function queueShare(fields: SharedFields): Promise<QueuedShare> {
  const memory = memoryFromShare(fields);
  if (!memory) return { location: sharedLocation(null), key: null };
  try {
    const entry = await enqueueCreate(memory);
    if (!hasHeldEntries()) return { location: sharedLocation(entry.memoryId), key: entry.key };
    await removeEntry(entry.key);
  } catch {
    // IndexedDB failed outright: the page may still manage.
  }
  const params = new URLSearchParams({ [IN_APP]: "1" });
  for (const [name, value] of Object.entries(fields)) if (value) params.set(name, value);
  return { location: `/share?${params.toString()}`, key: null };
}
