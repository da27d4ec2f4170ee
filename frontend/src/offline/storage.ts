// The origin's storage (PWA.md "Storage"): ask the browser to keep it (persist) once the user
// has saved something worth keeping, and read how full it is for Settings. Both are optional
// in browsers: where they are missing, nothing is asked and nothing is shown.

const PERSIST_ASKED = "mc:storage-persist-asked";

/** Asks for persistent storage once per device, after the first real save. */
export async function persistAfterFirstSave(storage: Storage = localStorage): Promise<boolean | null> {
  if (storage.getItem(PERSIST_ASKED)) return null;
  const manager = typeof navigator === "undefined" ? undefined : navigator.storage;
  if (!manager || typeof manager.persist !== "function") return null;
  storage.setItem(PERSIST_ASKED, "1");
  try {
    return await manager.persist();
  } catch {
    return null;
  }
}

export interface StorageUse {
  usage: number;
  quota: number;
  /** usage / quota, in [0, 1]. */
  fraction: number;
}

/** Warn at this share of the quota used. */
export const LOW_STORAGE_FRACTION = 0.8;

/** How much of the origin's quota is used, or null when the browser does not say. */
export async function storageUse(): Promise<StorageUse | null> {
  const manager = typeof navigator === "undefined" ? undefined : navigator.storage;
  if (!manager || typeof manager.estimate !== "function") return null;
  try {
    const { usage = 0, quota = 0 } = await manager.estimate();
    if (!quota) return null;
    return { usage, quota, fraction: Math.min(1, usage / quota) };
  } catch {
    return null;
  }
}
