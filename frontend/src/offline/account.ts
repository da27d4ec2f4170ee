// Whose data the device holds. The copy, the queue and the drafts belong to one account: when
// another account signs in on this browser, what the previous one left must neither show nor
// be sent with the new session. The copy and the drafts are wiped (the server has the one, the
// other was never saved); saves not yet sent are parked under their account, out of the new
// one's sight, and come back to the queue when that account signs in here again. Signing out
// wipes the copy and the drafts (someone else may use this browser next) and keeps the queue.
import { OWNER_KEY, SESSION_KEY, offlineDb, parkEntries, type OfflineDb } from "./db";
import { emit } from "./events";
import { forgetPageHideDrafts } from "./drafts";
import { forgetHeldEntries, heldEntries } from "./queue";

/** Makes the device's stores `userId`'s. When another account left them, its copy and drafts
 * are wiped, its unsent saves parked, and the saves `userId` left parked here come back. All in
 * one transaction that reads the owner too, so two claims at once (two tabs starting, React's
 * double effects) act one after the other. True when the previous account's data left the
 * stores. Rejects when the stores could not be made `userId`'s: nothing may be sent then. */
export async function claimDevice(userId: number | string): Promise<boolean> {
  const owner = String(userId);
  let db: OfflineDb;
  try {
    db = await offlineDb();
  } catch {
    return false; // no IndexedDB here at all: no queue or copy of anyone's to protect
  }
  const tx = db.transaction(["queue", "memories", "meta", "drafts", "parked"], "readwrite");
  const queue = tx.objectStore("queue");
  const meta = tx.objectStore("meta");
  const parked = tx.objectStore("parked");
  const work: Promise<unknown>[] = [tx.done];
  const run = <T>(request: Promise<T>): Promise<T> => {
    request.catch(() => undefined); // an abort rejects every request; tx.done reports it
    work.push(request);
    return request;
  };
  const previous = await run(meta.get(OWNER_KEY));
  const switched = previous !== undefined && previous !== owner;
  if (switched) {
    const [unsent, returning] = await Promise.all([run(queue.getAll()), run(parked.get(owner))]);
    // With them, what this page still keeps in memory (a full disk) of the previous account's.
    const leaving = [...unsent.sort((a, b) => a.seq - b.seq), ...heldEntries()]; // getAll: key order
    if (leaving.length) run(parkEntries(parked, String(previous), leaving));
    for (const store of ["queue", "memories", "meta", "drafts"] as const) run(tx.objectStore(store).clear());
    // A replay's claim or backoff from the account's last session means nothing now: each save
    // goes with this sign-in's replay (one that needs attention still waits for the user).
    // Numbered again in the order they were parked: parked at different times, from different
    // tabs, their seqs may repeat (the queue's seq index is unique).
    (returning ?? []).forEach((entry, index) => {
      run(
        queue.put({
          ...entry,
          seq: index + 1,
          state: entry.state === "syncing" ? "waiting" : entry.state,
          claimed_at: null,
          next_attempt_at: 0,
        }),
      );
    });
    if (returning) run(parked.delete(owner));
  }
  // The same account again, the first on this device (or a release before owners were kept):
  // its saves. Each start is a new session (copy.ts: a pull writes only within its own).
  run(meta.put(owner, OWNER_KEY));
  run(meta.put(crypto.randomUUID(), SESSION_KEY));
  await Promise.all(work);
  if (switched) {
    forgetHeldEntries();
    forgetPageHideDrafts();
    emit({ type: "queue" });
    emit({ type: "copy" });
  }
  return switched;
}

/** The account whose stores these are (its id as text), or null. */
export async function deviceOwner(): Promise<string | null> {
  try {
    const owner = await (await offlineDb()).get("meta", OWNER_KEY);
    return typeof owner === "string" ? owner : null;
  } catch {
    return null;
  }
}

/** Signing out: the copy, its cursor, the session and the drafts go; the queue stays for this
 * account. With `accountId`, only while the stores are that account's (a tab signing out after
 * another tab signed in as someone else leaves that one's stores alone). */
export async function forgetCopy(accountId: number | null = null): Promise<void> {
  try {
    const db = await offlineDb();
    const tx = db.transaction(["memories", "meta", "drafts"], "readwrite");
    const meta = tx.objectStore("meta");
    const owner = await meta.get(OWNER_KEY);
    if (accountId !== null && owner !== undefined && owner !== String(accountId)) {
      await tx.done;
      return;
    }
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
