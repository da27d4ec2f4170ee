// Whose data the device holds. The copy, the queue and the drafts belong to one account: when
// another account signs in on this browser, what the previous one left must neither show nor
// be sent with the new session. The copy and the drafts are wiped (the server has the one, the
// other was never saved); saves not yet sent are parked under their account, out of the new
// one's sight, and come back to the queue when that account signs in here again. Signing out
// wipes the copy and the drafts (someone else may use this browser next) and keeps the queue.
import { SESSION_KEY, offlineDb } from "./db";
import { emit } from "./events";
import { forgetPageHideDrafts } from "./drafts";
import { forgetHeldEntries } from "./queue";

const OWNER_KEY = "owner";

/** Makes the device's stores `userId`'s. When another account left them, its copy and drafts
 * are wiped, its unsent saves parked, and the saves `userId` left parked here come back.
 * True when the previous account's data left the stores. */
export async function claimDevice(userId: number | string): Promise<boolean> {
  const owner = String(userId);
  try {
    const db = await offlineDb();
    const previous = await db.get("meta", OWNER_KEY);
    if (previous === owner || previous === undefined) {
      // The same account again; or the first on this device (or a release before owners were
      // kept): its saves.
      const tx = db.transaction("meta", "readwrite");
      await Promise.all([tx.store.put(owner, OWNER_KEY), tx.store.put(crypto.randomUUID(), SESSION_KEY), tx.done]);
      return false;
    }
    const tx = db.transaction(["queue", "memories", "meta", "drafts", "parked"], "readwrite");
    const queue = tx.objectStore("queue");
    const parked = tx.objectStore("parked");
    const [unsent, returning] = await Promise.all([queue.getAll(), parked.get(owner)]);
    await Promise.all([
      ...(unsent.length ? [parked.put(unsent, String(previous))] : []),
      queue.clear(),
      tx.objectStore("memories").clear(),
      tx.objectStore("meta").clear(),
      tx.objectStore("drafts").clear(),
    ]);
    // A replay's claim or backoff from the account's last session means nothing now: each save
    // goes with this sign-in's replay (one that needs attention still waits for the user).
    const restored = (returning ?? []).map((entry) => ({
      ...entry,
      state: entry.state === "syncing" ? ("waiting" as const) : entry.state,
      claimed_at: null,
      next_attempt_at: 0,
    }));
    await Promise.all([
      ...restored.map((entry) => queue.put(entry)),
      ...(returning ? [parked.delete(owner)] : []),
      tx.objectStore("meta").put(owner, OWNER_KEY),
      tx.objectStore("meta").put(crypto.randomUUID(), SESSION_KEY),
      tx.done,
    ]);
    forgetHeldEntries();
    forgetPageHideDrafts();
    emit({ type: "queue" });
    emit({ type: "copy" });
    return true;
  } catch {
    return false;
  }
}

/** Signing out: the copy, its cursor, the session and the drafts go; the queue stays for this
 * account. */
export async function forgetCopy(): Promise<void> {
  try {
    const db = await offlineDb();
    const tx = db.transaction(["memories", "meta", "drafts"], "readwrite");
    const meta = tx.objectStore("meta");
    const owner = await meta.get(OWNER_KEY);
    await Promise.all([
      tx.objectStore("memories").clear(),
      tx.objectStore("drafts").clear(),
      meta.clear(),
      ...(owner === undefined ? [] : [meta.put(owner, OWNER_KEY)]),
      tx.done,
    ]);
  } catch {
    // Nothing stored, or nothing can be.
  }
  forgetPageHideDrafts();
  emit({ type: "copy" });
}
