// Whose data the device holds. The copy, the queue and the drafts belong to one account: when
// another account signs in on this browser, what the previous one left must neither show nor
// be sent with the new session, so it is wiped before the replay starts. Signing out wipes the
// copy and the drafts (someone else may use this browser next) but keeps saves not yet sent:
// they go when the same account signs in again, and are wiped if another one does.
import { offlineDb } from "./db";
import { emit } from "./events";
import { forgetPageHideDrafts } from "./drafts";
import { forgetHeldEntries } from "./queue";

const OWNER_KEY = "owner";

/** Makes the device's stores `userId`'s: wipes them first when another account left them.
 * True when something was wiped. */
export async function claimDevice(userId: number | string): Promise<boolean> {
  const owner = String(userId);
  try {
    const db = await offlineDb();
    const previous = await db.get("meta", OWNER_KEY);
    if (previous === owner) return false;
    if (previous === undefined) {
      // The first account on this device (or a release before owners were kept): its saves.
      await db.put("meta", owner, OWNER_KEY);
      return false;
    }
    const tx = db.transaction(["queue", "memories", "meta", "drafts"], "readwrite");
    const stores = [tx.objectStore("queue"), tx.objectStore("memories"), tx.objectStore("meta"), tx.objectStore("drafts")];
    await Promise.all([...stores.map((store) => store.clear()), tx.objectStore("meta").put(owner, OWNER_KEY), tx.done]);
    forgetHeldEntries();
    forgetPageHideDrafts();
    emit({ type: "queue" });
    emit({ type: "copy" });
    return true;
  } catch {
    return false;
  }
}

/** Signing out: the copy, its cursor and the drafts go; the queue stays for this account. */
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
