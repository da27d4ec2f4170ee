import { useContext, useRef, useState, type FormEvent } from "react";
import { Save } from "lucide-react";
import { KINDS, type Kind, type MemoryCreate } from "../api/client";
import { announceInboxChanged, announceMemorySaved } from "../lib/memoryEvents";
import { SessionContext } from "../lib/session";
import { parseTags } from "../lib/tags";
import { useDraft } from "../lib/useDraft";
import { useOfflineEvents } from "../lib/useOffline";
import { fromDateTimeLocal } from "../lib/zonedTime";
import { NEW_MEMORY_DRAFT, type DraftFields } from "../offline/drafts";
import { enqueueCreate } from "../offline/queue";
import { persistAfterFirstSave } from "../offline/storage";
import { MemoryFields, type MemoryFieldValues } from "./MemoryFields";

export interface CaptureFields extends MemoryFieldValues {
  /** "Remind me": a datetime-local value on the account's clock, or "". */
  remindAt: string;
}

/** The request body for the capture form's fields: only what the user filled in. */
export function toMemoryCreate(fields: CaptureFields): MemoryCreate {
  const body: MemoryCreate = { content: fields.content, kind: fields.kind };
  const title = fields.title.trim();
  const url = fields.url.trim();
  const tags = parseTags(fields.tags);
  if (title) body.title = title;
  if (url) body.url = url;
  if (tags.length) body.tags = tags;
  if (fields.remindAt) body.remind_at = fromDateTimeLocal(fields.remindAt);
  return body;
}

const EMPTY: CaptureFields = { content: "", title: "", url: "", tags: "", kind: "note", remindAt: "" };

function toDraft(fields: CaptureFields): DraftFields {
  const { remindAt, ...rest } = fields;
  return { ...rest, remind_at: remindAt };
}

function fromDraft(draft: DraftFields): CaptureFields {
  const kind = KINDS.includes(draft.kind as Kind) ? (draft.kind as Kind) : "note";
  return {
    content: draft.content ?? "",
    title: draft.title ?? "",
    url: draft.url ?? "",
    tags: draft.tags ?? "",
    kind,
    remindAt: draft.remind_at ?? "",
  };
}

/** Capture never fails (PWA.md): Save writes the memory into the device's queue, with its
 * Idempotency-Key and the moment Save was pressed, and clears the form at once; the list shows
 * it with its state until the replay has sent it. What is typed is kept as a draft meanwhile. */
export function CaptureForm() {
  const timeZone = useContext(SessionContext)?.user.time_zone;
  const [fields, setFields] = useState<CaptureFields>(EMPTY);
  const [error, setError] = useState("");
  const [message, setMessage] = useState("");
  // The keys of the saves made here, to say so when the server already had one.
  const mine = useRef(new Set<string>());
  const touched = useRef(false);
  const draft = useDraft(NEW_MEMORY_DRAFT, (restored) => {
    if (!touched.current) setFields(fromDraft(restored));
  });

  useOfflineEvents((event) => {
    if (event.type === "created" && mine.current.has(event.key)) {
      mine.current.delete(event.key);
      if (event.duplicate) setMessage("You had already saved this.");
      announceInboxChanged(); // its reminder (Remind me, or one read in the text) exists now
    }
  });

  const set = (changes: Partial<CaptureFields>) => {
    touched.current = true;
    const next = { ...fields, ...changes };
    setFields(next);
    draft.save(toDraft(next));
  };

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!fields.content.trim()) {
      setError("Write something to remember first.");
      return;
    }
    const savedAt = Date.now();
    const submitted = fields;
    setError("");
    setFields(EMPTY);
    draft.clear();
    try {
      const entry = await enqueueCreate(toMemoryCreate(submitted), savedAt);
      mine.current.add(entry.key);
      setMessage("Saved.");
      announceMemorySaved();
      void persistAfterFirstSave();
    } catch {
      // Not even memory could take it (IndexedDB broken in a way other than a full disk).
      setFields(submitted);
      setError("Could not save on this device. Please try again.");
    }
  }

  return (
    <section className="card capture" aria-labelledby="capture-heading">
      <h2 id="capture-heading">Capture</h2>
      <form className="form" onSubmit={submit}>
        <MemoryFields idPrefix="capture" fields={fields} onChange={set} />
        <div className="field remind-field">
          <label htmlFor="capture-remind">Remind me</label>
          <input
            id="capture-remind"
            type="datetime-local"
            aria-describedby="capture-remind-hint"
            value={fields.remindAt}
            onChange={(e) => set({ remindAt: e.target.value })}
          />
          <p id="capture-remind-hint" className="hint">
            Optional. Your inbox brings the memory back then{timeZone ? ` (${timeZone} time)` : ""}. “Remind me
            tomorrow at 9” in the text works too.
          </p>
        </div>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <div className="form-actions">
          <p className="save-message" aria-live="polite">
            {message}
          </p>
          <button type="submit" className="button primary">
            <Save aria-hidden="true" size={16} />
            <span>Save</span>
          </button>
        </div>
      </form>
    </section>
  );
}
