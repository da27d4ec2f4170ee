import { useEffect, useRef, useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { ArrowLeft, Pencil, Trash2 } from "lucide-react";
import { ApiError, KINDS, api, type Kind, type Memory } from "../api/client";
import { ConflictDialog } from "../components/ConflictDialog";
import { MemoryFields, type MemoryFieldValues } from "../components/MemoryFields";
import { MemoryMeta, NeedsAttention, PendingState } from "../components/MemoryList";
import { MemoryReminders } from "../components/MemoryReminders";
import { RelatedMemories } from "../components/RelatedMemories";
import { useNotice } from "../components/Notice";
import { changedFields, changesOf, editableOf, threeWayMerge, type Editable } from "../lib/merge";
import { announceMemorySaved, announceRestored } from "../lib/memoryEvents";
import { headline, parseTags } from "../lib/tags";
import { useDraft } from "../lib/useDraft";
import { useDeviceMemory, useOfflineEvents } from "../lib/useOffline";
import { putInCopy, type OfflineMemory } from "../offline/copy";
import type { DraftFields, QueueEntry } from "../offline/db";
import {
  discard,
  enqueueDelete,
  enqueueUpdate,
  fix,
  isLocalId,
  listEntries,
  resolveLocalId,
  withdrawEntry,
} from "../offline/queue";
import { syncNow } from "../offline/sync";

interface Props {
  onUnauthorized: () => void;
}

type Load = { state: "loading" } | { state: "missing" } | { state: "error"; message: string } | { state: "ready" };
/** A replayed edit of this memory that met a real conflict: the entry and the server's copy. */
type Conflict = { entry: QueueEntry; theirs: Memory };

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

function fieldsFromDraft(draft: DraftFields, fallback: MemoryFieldValues): MemoryFieldValues {
  return {
    content: draft.content ?? fallback.content,
    title: draft.title ?? fallback.title,
    url: draft.url ?? fallback.url,
    tags: draft.tags ?? fallback.tags,
    kind: KINDS.includes(draft.kind as Kind) ? (draft.kind as Kind) : fallback.kind,
  };
}

/** The server's row without the device's pending fields. */
function plain(memory: OfflineMemory): Memory {
  const { pending: _pending, pendingEntry: _entry, ...rest } = memory;
  return rest;
}

function message(error: unknown, fallback: string): string {
  return error instanceof ApiError ? error.detail : fallback;
}

function kick(): void {
  void syncNow().catch(() => undefined);
}

/** One memory, read from the device's copy (so it opens offline, and before its create was
 * sent); edits and deletes go through the save queue, a replayed edit's real conflict opens
 * "Edit conflict", and the choice is queued in turn. */
export function MemoryScreen({ onUnauthorized }: Props) {
  const { id = "" } = useParams();
  const navigate = useNavigate();
  const notice = useNotice();
  const { memory: stored } = useDeviceMemory(id);
  const [load, setLoad] = useState<Load>({ state: "loading" });
  // The memory as it was when editing began: the base of the edit's If-Match and of merges.
  const [editBase, setEditBase] = useState<Memory | null>(null);
  const [fields, setFields] = useState<MemoryFieldValues | null>(null);
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const heading = useRef<HTMLHeadingElement>(null);
  const memory = stored ?? null;
  const memoryId = memory?.id ?? id;

  // A "local:" memory whose create was sent has a server id now: show it under that.
  useEffect(() => {
    if (!isLocalId(id)) return;
    void resolveLocalId(id).then((serverId) => {
      if (serverId) navigate(`/memories/${serverId}`, { replace: true });
    });
  }, [id, navigate]);
  useOfflineEvents((event) => {
    if (event.type === "created" && id === `local:${event.key}`) navigate(`/memories/${event.memory.id}`, { replace: true });
    if (event.type === "conflict" && event.entry.memoryId === memoryId && !decided.current.has(event.entry.key)) setConflict({ entry: event.entry, theirs: event.theirs });
  });

  // Set when this screen deletes the memory: it is leaving, not to be fetched again.
  const leaving = useRef(false);

  // Not on the device (opened from a link before the first sync): ask the server, online.
  useEffect(() => {
    if (stored === undefined || leaving.current) return;
    if (stored) {
      setLoad({ state: "ready" });
      return;
    }
    if (isLocalId(id)) {
      setLoad({ state: "missing" });
      return;
    }
    const controller = new AbortController();
    api
      .getMemory(id, controller.signal)
      .then((found) => putInCopy(found))
      .catch((caught: unknown) => {
        if (controller.signal.aborted) return;
        if (caught instanceof ApiError && caught.status === 404) setLoad({ state: "missing" });
        else if (caught instanceof ApiError && caught.status === 401) onUnauthorized();
        else setLoad({ state: "error", message: message(caught, "Could not load this memory.") });
      });
    return () => controller.abort();
  }, [id, stored, onUnauthorized]);

  // A conflict parked in the queue (met in another tab, or before a reload) opens the dialog too.
  // The entries whose conflict the user already decided (their fix or discard may still be on
  // its way to the database): never asked about twice.
  const decided = useRef(new Set<string>());
  const pendingState = memory?.pending ?? null;
  useEffect(() => {
    if (pendingState !== "needs_attention" || conflict) return;
    void listEntries().then((entries) => {
      const parked = entries.find(
        (entry) => entry.memoryId === memoryId && entry.conflict && !decided.current.has(entry.key),
      );
      if (parked?.conflict) setConflict({ entry: parked, theirs: parked.conflict });
    });
  }, [pendingState, memoryId, conflict]);

  const draft = useDraft(memory && !isLocalId(memory.id) ? memory.id : null, (restored) => {
    if (!memory || fields) return;
    setEditBase(plain(memory));
    setFields(fieldsFromDraft(restored, fieldsOf(memory)));
  });

  function startEditing(current: OfflineMemory) {
    setEditBase(plain(current));
    setFields(fieldsOf(current));
    setError("");
  }

  function closeForm() {
    draft.clear();
    setEditBase(null);
    setFields(null);
    heading.current?.focus();
  }

  function changeFields(changes: Partial<MemoryFieldValues>) {
    if (!fields) return;
    const next = { ...fields, ...changes };
    setFields(next);
    draft.save(next);
  }

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!editBase || !fields) return;
    if (!fields.content.trim()) {
      setError("A memory needs some text.");
      return;
    }
    const edited = editableFrom(fields);
    const changed = changedFields(editableOf(editBase), edited);
    if (changed.length > 0) {
      setBusy(true);
      try {
        await enqueueUpdate(editBase, changesOf(edited, changed));
      } catch {
        setError("Could not save your changes on this device. Please try again.");
        return;
      } finally {
        setBusy(false);
      }
      announceMemorySaved(); // the new text is embedded again, and may now be a duplicate
    }
    closeForm();
  }

  async function resolve(chosen: Editable) {
    if (!conflict) return;
    const { entry, theirs } = conflict;
    const changes = changesOf(chosen, changedFields(editableOf(theirs), chosen));
    decided.current.add(entry.key);
    setConflict(null);
    if (Object.keys(changes).length === 0) await discard(entry.key);
    else {
      await fix(entry.key, changes);
      kick();
    }
    heading.current?.focus();
  }

  async function keepTheirs() {
    if (!conflict) return;
    const { entry } = conflict;
    decided.current.add(entry.key);
    setConflict(null);
    await discard(entry.key);
    heading.current?.focus();
  }

  async function backToForm() {
    if (!conflict) return;
    const { entry, theirs } = conflict;
    // The user's changes on top of the server's copy, which the next save edits.
    const base = entry.base ?? editableOf(theirs);
    const mine = { ...base, ...(entry.payload as Partial<Editable>) };
    const { merged } = threeWayMerge(base, mine, editableOf(theirs));
    decided.current.add(entry.key);
    setConflict(null);
    await discard(entry.key);
    setEditBase(theirs);
    setFields(fieldsOf({ ...theirs, ...merged }));
  }

  async function remove(target: OfflineMemory) {
    setBusy(true);
    setError("");
    leaving.current = true;
    let key: string;
    try {
      key = (await enqueueDelete(target.id)).key;
    } catch {
      setError("Could not delete this memory on this device. Please try again.");
      leaving.current = false;
      setBusy(false);
      return;
    }
    draft.clear();
    notice({
      text: `Deleted “${headline(target) || "memory"}”.`,
      action: { label: "Undo", run: () => void undo(key, plain(target)) },
    });
    navigate("/");
  }

  /** Undo: a delete still waiting on the device is taken back; one the server ran is restored
   * there (an API call, online only: a restore waits for nothing else and says when it fails). */
  async function undo(key: string, target: Memory) {
    if (await withdrawEntry(key)) {
      notice({ text: `Restored “${headline(target) || "memory"}”.` });
      return;
    }
    notice({ text: "Restoring…" });
    // The delete may be on its way right now: let it arrive first.
    await syncNow().catch(() => undefined);
    const serverId = isLocalId(target.id) ? await resolveLocalId(target.id) : target.id;
    try {
      if (!serverId) throw new Error("never sent");
      const restored = await api.restoreMemory(serverId);
      await putInCopy(restored);
      announceRestored(restored);
      notice({ text: `Restored “${headline(restored) || "memory"}”.` });
    } catch (caught) {
      if (caught instanceof ApiError && caught.status === 401) onUnauthorized();
      notice({ text: message(caught, "Could not restore the memory. Try again when online.") });
    }
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
          <MemoryFields idPrefix="edit" fields={fields} onChange={changeFields} />
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
                setError("");
                closeForm();
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
            {memory.pending && <PendingState state={memory.pending} />}
          </MemoryMeta>
          {memory.pending === "needs_attention" && !conflict && <NeedsAttention memory={memory} />}
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
          {!isLocalId(memory.id) && (
            <>
              <MemoryReminders memoryId={memory.id} content={memory.content} onUnauthorized={onUnauthorized} />
              <RelatedMemories memoryId={memory.id} onUnauthorized={onUnauthorized} />
            </>
          )}
        </>
      )}
      {conflict && (
        <ConflictDialog
          key={`${conflict.entry.key}:${conflict.theirs.version}`}
          base={conflict.entry.base ?? editableOf(conflict.theirs)}
          mine={{ ...(conflict.entry.base ?? editableOf(conflict.theirs)), ...(conflict.entry.payload as Partial<Editable>) }}
          theirs={conflict.theirs}
          busy={busy}
          error={error}
          onResolve={(chosen) => void resolve(chosen)}
          onKeepTheirs={() => void keepTheirs()}
          onCancel={() => void backToForm()}
        />
      )}
    </article>
  );
}
