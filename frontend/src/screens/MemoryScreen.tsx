import { useCallback, useEffect, useRef, useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { ArrowLeft, Pencil, Trash2 } from "lucide-react";
import { ApiError, api, type Memory } from "../api/client";
import { ConflictDialog } from "../components/ConflictDialog";
import { MemoryFields, type MemoryFieldValues } from "../components/MemoryFields";
import { MemoryMeta } from "../components/MemoryList";
import { MemoryReminders } from "../components/MemoryReminders";
import { RelatedMemories } from "../components/RelatedMemories";
import { useNotice } from "../components/Notice";
import { saveEdit, type EditOutcome } from "../lib/editMemory";
import { editableOf, threeWayMerge, type Editable } from "../lib/merge";
import { announceMemorySaved, announceRestored } from "../lib/memoryEvents";
import { headline, parseTags } from "../lib/tags";

interface Props {
  onUnauthorized: () => void;
}

type Load = { state: "loading" } | { state: "missing" } | { state: "error"; message: string } | { state: "ready" };
type Conflict = Extract<EditOutcome, { kind: "conflict" }>;

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function fieldsOf(memory: Memory): MemoryFieldValues {
  return {
    content: memory.content,
    title: memory.title,
    url: memory.url,
    tags: memory.tags.join(", "),
    kind: memory.kind,
  };
}

export function editableFrom(fields: MemoryFieldValues): Editable {
  return { ...fields, tags: parseTags(fields.tags) };
}

function message(error: unknown, fallback: string): string {
  return error instanceof ApiError ? error.detail : fallback;
}

/** One memory: read it, edit it (conflicts into "Edit conflict"), delete it with "Undo". */
export function MemoryScreen({ onUnauthorized }: Props) {
  const { id = "" } = useParams();
  const navigate = useNavigate();
  const notice = useNotice();
  const [load, setLoad] = useState<Load>({ state: "loading" });
  const [memory, setMemory] = useState<Memory | null>(null);
  // The memory as it was when editing began: the base of the edit's If-Match and of merges.
  const [editBase, setEditBase] = useState<Memory | null>(null);
  const [fields, setFields] = useState<MemoryFieldValues | null>(null);
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const heading = useRef<HTMLHeadingElement>(null);

  const failed = useCallback(
    (caught: unknown, fallback: string) => {
      if (caught instanceof ApiError && caught.status === 401) onUnauthorized();
      else setError(message(caught, fallback));
    },
    [onUnauthorized],
  );

  useEffect(() => {
    const controller = new AbortController();
    setLoad({ state: "loading" });
    api
      .getMemory(id, controller.signal)
      .then((found) => {
        setMemory(found);
        setLoad({ state: "ready" });
      })
      .catch((caught: unknown) => {
        if (controller.signal.aborted) return;
        if (caught instanceof ApiError && caught.status === 404) setLoad({ state: "missing" });
        else if (caught instanceof ApiError && caught.status === 401) onUnauthorized();
        else setLoad({ state: "error", message: message(caught, "Could not load this memory.") });
      });
    return () => controller.abort();
  }, [id, onUnauthorized]);

  function startEditing(current: Memory) {
    setEditBase(current);
    setFields(fieldsOf(current));
    setError("");
  }

  function finishEditing(saved: Memory) {
    setMemory(saved);
    setEditBase(null);
    setFields(null);
    setConflict(null);
    heading.current?.focus();
  }

  async function settle(outcome: Promise<EditOutcome>) {
    setBusy(true);
    setError("");
    try {
      const result = await outcome;
      if (result.kind === "saved") {
        finishEditing(result.memory);
        announceMemorySaved(); // the new text is embedded again, and may now be a duplicate
      }
      else setConflict(result);
    } catch (caught) {
      failed(caught, "Could not save your changes. Please try again.");
    } finally {
      setBusy(false);
    }
  }

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!editBase || !fields) return;
    if (!fields.content.trim()) {
      setError("A memory needs some text.");
      return;
    }
    void settle(saveEdit(editBase, editableFrom(fields)));
  }

  async function remove(target: Memory) {
    setBusy(true);
    setError("");
    try {
      await api.deleteMemory(target.id);
    } catch (caught) {
      failed(caught, "Could not delete this memory. Please try again.");
      setBusy(false);
      return;
    }
    notice({ text: `Deleted “${headline(target) || "memory"}”.`, action: { label: "Undo", run: () => undo(target) } });
    navigate("/");
  }

  function undo(target: Memory) {
    notice({ text: "Restoring…" });
    api
      .restoreMemory(target.id)
      .then((restored) => {
        announceRestored(restored);
        notice({ text: `Restored “${headline(restored) || "memory"}”.` });
      })
      .catch((caught: unknown) => notice({ text: message(caught, "Could not restore the memory.") }));
  }

  if (load.state === "loading") {
    return (
      <section className="card detail" aria-busy="true">
        <p className="muted">Loading…</p>
      </section>
    );
  }
  if (load.state !== "ready" || !memory) {
    return (
      <section className="card detail">
        <h1>{load.state === "missing" ? "Memory not found" : "Could not load this memory"}</h1>
        <p className={load.state === "error" ? "error" : "muted"} role={load.state === "error" ? "alert" : undefined}>
          {load.state === "error" ? load.message : "It may have been deleted, or the link is wrong."}
        </p>
        <Link to="/" className="button">
          <ArrowLeft aria-hidden="true" size={16} />
          <span>Back to memories</span>
        </Link>
      </section>
    );
  }

  return (
    <article className="card detail" aria-labelledby="memory-heading">
      <Link to="/" className="back-link">
        <ArrowLeft aria-hidden="true" size={16} />
        <span>Memories</span>
      </Link>
      <h1 id="memory-heading" ref={heading} tabIndex={-1}>
        {headline(memory) || "(empty)"}
      </h1>
      {fields ? (
        <form className="form" onSubmit={submit} aria-label="Edit memory">
          <MemoryFields idPrefix="edit" fields={fields} onChange={(changes) => setFields({ ...fields, ...changes })} />
          {error && (
            <p role="alert" className="error">
              {error}
            </p>
          )}
          <div className="form-actions">
            <button
              type="button"
              className="button"
              disabled={busy}
              onClick={() => {
                setFields(null);
                setEditBase(null);
                setError("");
              }}
            >
              Cancel
            </button>
            <button type="submit" className="button primary" disabled={busy}>
              {busy ? "Saving…" : "Save changes"}
            </button>
          </div>
        </form>
      ) : (
        <>
          <p className="memory-content">{memory.content}</p>
          {memory.url && (
            <p>
              <a href={memory.url} rel="noopener noreferrer nofollow" target="_blank">
                {memory.url}
              </a>
            </p>
          )}
          {memory.summary && (
            <p className="summary">
              <span className="label">Summary: </span>
              {memory.summary}
            </p>
          )}
          <MemoryMeta memory={memory}>
            {memory.category && <span className="category">{memory.category}</span>}
          </MemoryMeta>
          <dl className="facts">
            <dt>Saved</dt>
            <dd>
              <time dateTime={memory.created_at}>{dateFormat.format(new Date(memory.created_at))}</time>
            </dd>
            <dt>Version</dt>
            <dd>{memory.version}</dd>
            {memory.enrichment_status === "pending" && (
              <>
                <dt>AI</dt>
                <dd>Tags and summary are on their way.</dd>
              </>
            )}
          </dl>
          {error && (
            <p role="alert" className="error">
              {error}
            </p>
          )}
          <div className="form-actions">
            <button type="button" className="button danger" disabled={busy} onClick={() => void remove(memory)}>
              <Trash2 aria-hidden="true" size={16} />
              <span>Delete</span>
            </button>
            <button type="button" className="button primary" disabled={busy} onClick={() => startEditing(memory)}>
              <Pencil aria-hidden="true" size={16} />
              <span>Edit</span>
            </button>
          </div>
          <MemoryReminders memoryId={memory.id} content={memory.content} onUnauthorized={onUnauthorized} />
          <RelatedMemories memoryId={memory.id} onUnauthorized={onUnauthorized} />
        </>
      )}
      {conflict && (
        <ConflictDialog
          key={conflict.theirs.version}
          base={conflict.base}
          mine={conflict.mine}
          theirs={conflict.theirs}
          busy={busy}
          error={error}
          onResolve={(chosen) => void settle(saveEdit(conflict.theirs, chosen))}
          onKeepTheirs={() => finishEditing(conflict.theirs)}
          onCancel={() => {
            // Back to the form: the user's changes on top of the server's copy, which the next
            // save edits.
            const { merged } = threeWayMerge(conflict.base, conflict.mine, editableOf(conflict.theirs));
            setEditBase(conflict.theirs);
            setFields(fieldsOf({ ...conflict.theirs, ...merged }));
            setConflict(null);
          }}
        />
      )}
    </article>
  );
}
