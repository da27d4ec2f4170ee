// Drafts (PWA.md "Drafts"): what the user is typing, kept so a reload or a crash gives it back.
// Why the caller debounces `saveDraft` and this module keeps the latest fields too: a write on
// every keystroke is wasted work, yet the last few keystrokes before the page goes away must not
// be lost, so `pagehide` calls `flushDrafts`, which writes what the debounce still holds back.
// IndexedDB is asynchronous, and a write begun in `pagehide` on a reload or a navigation in the
// same tab never lands (Chromium drops it with the page), so `pagehide` also writes the held
// fields to localStorage, which is synchronous; `loadDraft` takes the newer of the two.
// A draft is a convenience: a write that fails (full storage) is reported, never thrown.
import { offlineDb, type Draft, type DraftFields } from "./db";

export type { Draft, DraftFields };

/** The capture form's draft id (an edit's draft uses the memory's id). */
export const NEW_MEMORY_DRAFT = "new";

const unsaved = new Map<string, DraftFields>();
const PAGEHIDE_PREFIX = "mc-draft:";

interface PageHideDraft {
  fields: DraftFields;
  saved_at: number;
}

function storage(): Storage | null {
  try {
    return typeof localStorage === "undefined" ? null : localStorage;
  } catch {
    return null; // storage disabled by the browser's settings
  }
}

function readPageHideDraft(id: string): PageHideDraft | null {
  try {
    const raw = storage()?.getItem(PAGEHIDE_PREFIX + id);
    return raw ? (JSON.parse(raw) as PageHideDraft) : null;
  } catch {
    return null;
  }
}

function dropPageHideDraft(id: string): void {
  try {
    storage()?.removeItem(PAGEHIDE_PREFIX + id);
  } catch {
    // Nothing to drop.
  }
}

/** Forgets every draft written on `pagehide` (signing out: someone else may use the browser). */
export function forgetPageHideDrafts(): void {
  const stored = storage();
  if (!stored) return;
  for (const key of Object.keys(stored)) if (key.startsWith(PAGEHIDE_PREFIX)) stored.removeItem(key);
}

/** Remembers the latest fields of a draft without writing them (the debounce's pending value),
 * for `flushDrafts`. */
export function noteDraft(id: string, fields: DraftFields): void {
  unsaved.set(id, { ...fields });
}

/** Writes a draft now; false when storage refused it. */
export async function saveDraft(id: string, fields: DraftFields, now: number = Date.now()): Promise<boolean> {
  unsaved.delete(id);
  try {
    await (await offlineDb()).put("drafts", { id, fields: { ...fields }, saved_at: now });
    dropPageHideDraft(id); // older than what was just stored
    return true;
  } catch {
    return false;
  }
}

/** Writes every draft noted and not yet saved (on `pagehide`): to localStorage at once, then
 * to IndexedDB (which removes the localStorage copy when it lands). */
export async function flushDrafts(now: number = Date.now()): Promise<void> {
  const pending = [...unsaved.entries()];
  for (const [id, fields] of pending) {
    try {
      storage()?.setItem(PAGEHIDE_PREFIX + id, JSON.stringify({ fields, saved_at: now } satisfies PageHideDraft));
    } catch {
      // Full or disabled: the IndexedDB write below is the only chance.
    }
  }
  await Promise.all(pending.map(([id, fields]) => saveDraft(id, fields, now)));
}

/** The draft's fields, or null when there is none. */
export async function loadDraft(id: string): Promise<DraftFields | null> {
  const noted = unsaved.get(id);
  if (noted) return { ...noted };
  const hidden = readPageHideDraft(id);
  let stored: Draft | undefined;
  try {
    stored = await (await offlineDb()).get("drafts", id);
  } catch {
    stored = undefined;
  }
  if (hidden && (!stored || hidden.saved_at >= stored.saved_at)) return { ...hidden.fields };
  return stored ? stored.fields : null;
}

/** Forgets the draft (after Save, or when the user clears the form). */
export async function clearDraft(id: string): Promise<void> {
  unsaved.delete(id);
  dropPageHideDraft(id);
  try {
    await (await offlineDb()).delete("drafts", id);
  } catch {
    // Nothing stored, or nothing can be: either way there is no draft.
  }
}

/** Flushes the drafts when the page is hidden or going away; returns the unwiring. */
export function flushDraftsOnPageHide(target: Pick<Window, "addEventListener" | "removeEventListener"> = window): () => void {
  const flush = () => {
    void flushDrafts();
  };
  target.addEventListener("pagehide", flush);
  return () => target.removeEventListener("pagehide", flush);
}
