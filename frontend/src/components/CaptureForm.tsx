import { useState, type FormEvent } from "react";
import { Save } from "lucide-react";
import { ApiError, KINDS, api, newIdempotencyKey, type Kind, type MemoryCreate, type MemorySave } from "../api/client";
import { parseTags } from "../lib/tags";

interface Props {
  onSaved: (memory: MemorySave) => void;
}

export interface CaptureFields {
  content: string;
  title: string;
  url: string;
  tags: string;
  kind: Kind;
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
  return body;
}

const EMPTY: CaptureFields = { content: "", title: "", url: "", tags: "", kind: "note" };

export function CaptureForm({ onSaved }: Props) {
  const [fields, setFields] = useState<CaptureFields>(EMPTY);
  const [error, setError] = useState("");
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);
  // One key per memory the user means to save, so a retried Save is not a second memory.
  const [idempotencyKey, setIdempotencyKey] = useState(newIdempotencyKey);

  const set = <K extends keyof CaptureFields>(key: K, value: CaptureFields[K]) =>
    setFields((current) => ({ ...current, [key]: value }));

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
        <div className="field">
          <label htmlFor="capture-content">Memory</label>
          <textarea
            id="capture-content"
            rows={4}
            required
            value={fields.content}
            onChange={(e) => set("content", e.target.value)}
          />
        </div>
        <div className="field-row">
          <div className="field">
            <label htmlFor="capture-title">Title</label>
            <input id="capture-title" type="text" value={fields.title} onChange={(e) => set("title", e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="capture-url">Link</label>
            <input
              id="capture-url"
              type="url"
              inputMode="url"
              placeholder="https://"
              value={fields.url}
              onChange={(e) => set("url", e.target.value)}
            />
          </div>
        </div>
        <div className="field-row">
          <div className="field">
            <label htmlFor="capture-tags">Tags</label>
            <input
              id="capture-tags"
              type="text"
              aria-describedby="capture-tags-hint"
              value={fields.tags}
              onChange={(e) => set("tags", e.target.value)}
            />
            <p id="capture-tags-hint" className="hint">
              Separate tags with commas.
            </p>
          </div>
          <div className="field">
            <label htmlFor="capture-kind">Kind</label>
            <select id="capture-kind" value={fields.kind} onChange={(e) => set("kind", e.target.value as Kind)}>
              {KINDS.map((kind) => (
                <option key={kind} value={kind}>
                  {kind[0]?.toUpperCase() + kind.slice(1)}
                </option>
              ))}
            </select>
          </div>
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
