// Autosave of a form into offline/drafts.ts (PWA.md "Drafts"): written 500 ms after the last
// keystroke, and on `pagehide` (App wires flushDraftsOnPageHide) for what the debounce still
// holds; read back once when the form opens; cleared on Save.
import { useCallback, useEffect, useRef } from "react";
import { clearDraft, loadDraft, noteDraft, saveDraft, type DraftFields } from "../offline/drafts";

export const DRAFT_DEBOUNCE_MS = 500;

export function useDraft(id: string | null, restore: (fields: DraftFields) => void) {
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const restoreRef = useRef(restore);
  restoreRef.current = restore;

  useEffect(() => {
    if (id === null) return;
    let cancelled = false;
    void loadDraft(id).then((fields) => {
      if (!cancelled && fields && Object.values(fields).some((value) => value)) restoreRef.current(fields);
    });
    return () => {
      cancelled = true;
    };
  }, [id]);

  useEffect(
    () => () => {
      if (timer.current !== null) clearTimeout(timer.current);
    },
    [],
  );

  /** The form changed: note it now (for pagehide), write it after the debounce. */
  const save = useCallback(
    (fields: DraftFields) => {
      if (id === null) return;
      noteDraft(id, fields);
      if (timer.current !== null) clearTimeout(timer.current);
      timer.current = setTimeout(() => {
        timer.current = null;
        void saveDraft(id, fields);
      }, DRAFT_DEBOUNCE_MS);
    },
    [id],
  );

  const clear = useCallback(() => {
    if (timer.current !== null) clearTimeout(timer.current);
    timer.current = null;
    if (id !== null) void clearDraft(id);
  }, [id]);

  return { save, clear };
}
