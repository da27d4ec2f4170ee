// Drafts (PWA.md "Drafts"): what the user is typing, kept so a reload or a crash gives it back.
// Why the caller debounces `saveDraft` and this module keeps the latest fields too: a write on
// every keystroke is wasted work, yet the last few keystrokes before the page goes away must not
// be lost, so `pagehide` calls `flushDrafts`, which writes what the debounce still holds back.
// A draft is a convenience: a write that fails (full storage) is reported, never thrown.
import { offlineDb, type Draft, type DraftFields } from "./db";

export type { Draft, DraftFields };

/** The capture form's draft id (an edit's draft uses the memory's id). */
export const NEW_MEMORY_DRAFT = "new";

const unsaved = new Map<string, DraftFields>();

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
    return true;
  } catch {
    return false;
  }
}

/** Writes every draft noted and not yet saved (on `pagehide`). */
export async function flushDrafts(now: number = Date.now()): Promise<void> {
  const pending = [...unsaved.entries()];
  await Promise.all(pending.map(([id, fields]) => saveDraft(id, fields, now)));
}

/** The draft's fields, or null when there is none. */
export async function loadDraft(id: string): Promise<DraftFields | null> {
  const noted = unsaved.get(id);
  if (noted) return { ...noted };
  try {
    const draft = await (await offlineDb()).get("drafts", id);
    return draft ? draft.fields : null;
  } catch {
    return null;
  }
}

/** Forgets the draft (after Save, or when the user clears the form). */
export async function clearDraft(id: string): Promise<void> {
  unsaved.delete(id);
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
