import { useContext, useState, type FormEvent } from "react";
import { Save } from "lucide-react";
import { ApiError, api, newIdempotencyKey, type MemoryCreate, type MemorySave } from "../api/client";
import { announceMemorySaved } from "../lib/memoryEvents";
import { SessionContext } from "../lib/session";
import { parseTags } from "../lib/tags";
import { fromDateTimeLocal } from "../lib/zonedTime";
import { MemoryFields, type MemoryFieldValues } from "./MemoryFields";

interface Props {
  onSaved: (memory: MemorySave) => void;
}

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

export function CaptureForm({ onSaved }: Props) {
  const timeZone = useContext(SessionContext)?.user.time_zone;
  const [fields, setFields] = useState<CaptureFields>(EMPTY);
  const [error, setError] = useState("");
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);
  // One key per memory the user means to save, so a retried Save is not a second memory.
  const [idempotencyKey, setIdempotencyKey] = useState(newIdempotencyKey);

  const set = (changes: Partial<CaptureFields>) => setFields((current) => ({ ...current, ...changes }));

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!fields.content.trim()) {
      setError("Write something to remember first.");
      return;
    }
    setBusy(true);
    setError("");
    setMessage("");
    try {
      const saved = await api.createMemory(toMemoryCreate(fields), idempotencyKey);
      onSaved(saved);
      if (!saved.duplicate) announceMemorySaved();
      setFields(EMPTY);
      setIdempotencyKey(newIdempotencyKey());
      setMessage(saved.duplicate ? "You had already saved this." : "Saved.");
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.detail : "Could not save. Please try again.");
    } finally {
      setBusy(false);
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
          <button type="submit" className="button primary" disabled={busy}>
            <Save aria-hidden="true" size={16} />
            <span>Save</span>
          </button>
        </div>
      </form>
    </section>
  );
}
