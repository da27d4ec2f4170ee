import { beforeEach, describe, expect, it } from "vitest";
import { openDB } from "idb";
import { freshOfflineState } from "../test/offline";
import { DB_NAME, DB_VERSION, closeOfflineDb, offlineDb } from "./db";
import { enqueueCreate, listEntries } from "./queue";

beforeEach(freshOfflineState);

describe("the device's database", () => {
  it("is used as it is when a newer release in another tab upgraded it past this one", async () => {
    await offlineDb(); // this release's schema
    await closeOfflineDb();
    const newer = await openDB(DB_NAME, DB_VERSION + 1, {
      upgrade(db) {
        db.createObjectStore("from-a-later-release"); // releases only ever add stores
      },
    });
    newer.close();

    const saved = await enqueueCreate({ content: "Saved in the older tab", kind: "note" });

    expect((await offlineDb()).version).toBe(DB_VERSION + 1);
    expect((await listEntries()).map((entry) => entry.key)).toEqual([saved.key]); // stored, not held
  });
});
