import { useEffect, useId, useRef, useState } from "react";
import type { Memory } from "../api/client";
import { TextDiff } from "./TextDiff";
import {
  EDITABLE_FIELDS,
  FIELD_LABELS,
  changedFields,
  editableOf,
  mergedTextDraft,
  threeWayMerge,
  type Editable,
  type EditableField,
} from "../lib/merge";

interface Props {
  base: Editable;
  mine: Editable;
  theirs: Memory;
  busy: boolean;
  error: string;
  /** Every field as the user chose it; sent on top of the server's copy. */
  onResolve: (chosen: Editable) => void;
  onKeepTheirs: () => void;
  /** Back to the edit form, the user's text kept (Escape). */
  onCancel: () => void;
}

function display(field: EditableField, value: Editable[EditableField]): string {
  return field === "tags" ? (value as string[]).join(", ") : String(value);
}

// The server's copy is the "before" of the comparison, the user's the "after".
const SIDES = [
  { show: "after", label: "Your version", heading: "Your version" },
  { show: "before", label: "Their version", heading: "On the server" },
] as const;

/** PWA.md's "Edit conflict": both versions side by side, differences marked; "Keep mine",
 * "Keep theirs", or "Merge" (the text in an editor, "Merged text", then "Save merge"). */
export function ConflictDialog({ base, mine, theirs, busy, error, onResolve, onKeepTheirs, onCancel }: Props) {
  const dialog = useRef<HTMLDialogElement>(null);
  const headingId = useId();
  const server = editableOf(theirs);
  const result = threeWayMerge(base, mine, server);
  const shown = EDITABLE_FIELDS.filter((field) => changedFields(server, mine).includes(field));
  const [merging, setMerging] = useState(false);
  const [mergedText, setMergedText] = useState(() =>
    result.conflicts.includes("content") ? mergedTextDraft(server.content, mine.content) : result.merged.content,
  );

  useEffect(() => {
    const node = dialog.current;
    if (!node) return;
    // A modal <dialog> keeps focus inside and makes the page behind it inert.
    if (typeof node.showModal === "function" && !node.open) node.showModal();
    else node.setAttribute("open", "");
    return () => {
      if (node.open && typeof node.close === "function") node.close();
    };
  }, []);

  function mergeChoice(): Editable {
    const tags = result.conflicts.includes("tags")
      ? [...new Set([...server.tags, ...mine.tags])]
      : result.merged.tags;
    return { ...result.merged, tags, content: mergedText };
  }

  return (
    <dialog
      ref={dialog}
      className="conflict-dialog"
      aria-labelledby={headingId}
      onCancel={(event) => {
        event.preventDefault();
        if (!busy) onCancel();
      }}
    >
      <h2 id={headingId}>Edit conflict</h2>
      <p>
        This memory was changed elsewhere (now version {theirs.version}) while you edited it. Choose what to keep.
        {result.conflicts.length === 0 && " It kept changing while your edit was being merged."}
      </p>
      <div className="conflict-columns">
        {SIDES.map(({ show, label, heading }) => (
          <section key={show} aria-label={label}>
            <h3>{heading}</h3>
            {shown.map((field) => (
              <div key={field} className="conflict-field">
                <h4>{FIELD_LABELS[field]}</h4>
                <TextDiff before={display(field, server[field])} after={display(field, mine[field])} show={show} />
              </div>
            ))}
          </section>
        ))}
      </div>
      {merging && (
        <div className="field">
          <label htmlFor={`${headingId}-merged`}>Merged text</label>
          <textarea
            id={`${headingId}-merged`}
            rows={8}
            value={mergedText}
            onChange={(event) => setMergedText(event.target.value)}
          />
        </div>
      )}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <div className="dialog-actions">
        {merging ? (
          <>
            <button type="button" className="button" onClick={() => setMerging(false)} disabled={busy}>
              Back
            </button>
            <button
              type="button"
              className="button primary"
              onClick={() => onResolve(mergeChoice())}
              disabled={busy || !mergedText.trim()}
            >
              Save merge
            </button>
          </>
        ) : (
          <>
            <button type="button" className="button" onClick={onKeepTheirs} disabled={busy}>
              Keep theirs
            </button>
            <button type="button" className="button" onClick={() => setMerging(true)} disabled={busy}>
              Merge
            </button>
            <button type="button" className="button primary" onClick={() => onResolve(result.merged)} disabled={busy}>
              Keep mine
            </button>
          </>
        )}
      </div>
    </dialog>
  );
}
