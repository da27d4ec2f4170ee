import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from "react";
import { Link } from "react-router";
import type { Memory } from "../api/client";
import { headline } from "../lib/tags";
import type { OfflineMemory } from "../offline/copy";
import type { QueueState } from "../offline/db";
import { discard, fix, getEntry } from "../offline/queue";
import { syncNow } from "../offline/sync";

interface Props {
  memories: (Memory | OfflineMemory)[];
  hasMore: boolean;
  loading: boolean;
  onLoadMore: () => void;
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

function formatDate(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : dateFormat.format(date);
}

/** A memory's kind and tags (then `children`), in a list row. */
export function MemoryMeta({ memory, children }: { memory: Memory; children?: ReactNode }) {
  return (
    <div className="memory-meta">
      <span className={`kind kind-${memory.kind}`}>{memory.kind}</span>
      {memory.tags.length > 0 && (
        // Not a nested list: a list of memories has exactly one listitem per memory.
        <span className="tags">
          <span className="visually-hidden">Tags: </span>
          {memory.tags.map((tag) => (
            <span key={tag} className="tag">
              {tag}
            </span>
          ))}
        </span>
      )}
      {children}
    </div>
  );
}

/** PWA.md's state texts of a save not on the server yet. */
export const PENDING_TEXT: Record<QueueState, string> = {
  waiting: "Waiting to sync",
  syncing: "Syncing",
  needs_attention: "Needs attention",
};

function pendingOf(memory: Memory | OfflineMemory): OfflineMemory["pending"] {
  return "pending" in memory ? memory.pending : null;
}

/** A save's state on its memory ("Waiting to sync" …). */
export function PendingState({ state }: { state: QueueState }) {
  return <span className={`pending-state pending-${state.replace("_", "-")}`}>{PENDING_TEXT[state]}</span>;
}

/** A save the server refused: its reason, and the way out: fix the text (a create) and send it
 * again, or discard the save. */
export function NeedsAttention({ memory }: { memory: OfflineMemory }) {
  const entry = memory.pendingEntry;
  const [fixing, setFixing] = useState(false);
  const [text, setText] = useState(memory.content);
  const [busy, setBusy] = useState(false);
  const fieldId = useId();
  if (!entry) return null;
  const key = entry.key;

  async function sendAgain(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!text.trim()) return;
    setBusy(true);
    const current = await getEntry(key);
    if (current) await fix(key, { ...current.payload, content: text });
    void syncNow().catch(() => undefined);
    setBusy(false);
    setFixing(false);
  }

  async function drop() {
    setBusy(true);
    await discard(key);
    setBusy(false);
  }

  const what = entry.operation === "create" ? "save" : entry.operation === "update" ? "change" : "delete";
  return (
    <div className="attention">
      {entry.error && <p className="error">{entry.error}</p>}
      {fixing ? (
        <form className="form" onSubmit={(event) => void sendAgain(event)}>
          <div className="field">
            <label htmlFor={fieldId}>Fix the text</label>
            <textarea id={fieldId} rows={3} value={text} onChange={(event) => setText(event.target.value)} />
          </div>
          <div className="form-actions">
            <button type="button" className="button" onClick={() => setFixing(false)} disabled={busy}>
              Cancel
            </button>
            <button type="submit" className="button primary" disabled={busy || !text.trim()}>
              Send again
            </button>
          </div>
        </form>
      ) : (
        <div className="form-actions">
          {entry.operation === "create" && (
            <button type="button" className="button" onClick={() => setFixing(true)} disabled={busy}>
              Fix
            </button>
          )}
          <button type="button" className="button danger" onClick={() => void drop()} disabled={busy}>
            Discard {what}
          </button>
        </div>
      )}
    </div>
  );
}

export function MemoryItem({ memory }: { memory: Memory | OfflineMemory }) {
  const pending = pendingOf(memory);
  return (
    <li className={pending ? `memory pending ${pending}` : "memory"}>
      <p className="memory-title">
        <Link to={`/memories/${memory.id}`}>{headline(memory) || "(empty)"}</Link>
      </p>
      <MemoryMeta memory={memory}>
        <time dateTime={memory.created_at}>{formatDate(memory.created_at)}</time>
        {pending && <PendingState state={pending} />}
      </MemoryMeta>
      {pending === "needs_attention" && <NeedsAttention memory={memory as OfflineMemory} />}
    </li>
  );
}

/** The list of memories, newest first; loads the next cursor page when its end scrolls into view. */
export function MemoryList({ memories, hasMore, loading, onLoadMore }: Props) {
  const sentinel = useRef<HTMLDivElement>(null);
  const loadMore = useRef(onLoadMore);
  loadMore.current = onLoadMore;

  useEffect(() => {
    const node = sentinel.current;
    if (!node || !hasMore || typeof IntersectionObserver === "undefined") return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((entry) => entry.isIntersecting)) loadMore.current();
      },
      { rootMargin: "400px 0px" },
    );
    observer.observe(node);
    return () => observer.disconnect();
  }, [hasMore, memories.length]);

  return (
    <>
      <ul className="memory-list" aria-label="Memories">
        {memories.map((memory) => (
          <MemoryItem key={memory.id} memory={memory} />
        ))}
      </ul>
      <div ref={sentinel} className="list-end">
        {hasMore && (
          <button type="button" className="button" onClick={onLoadMore} disabled={loading}>
            {loading ? "Loading…" : "Load more"}
          </button>
        )}
      </div>
    </>
  );
}
