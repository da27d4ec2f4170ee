import { useEffect, useRef, type ReactNode } from "react";
import { Link } from "react-router";
import type { Memory } from "../api/client";
import { headline } from "../lib/tags";

interface Props {
  memories: Memory[];
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

export function MemoryItem({ memory }: { memory: Memory }) {
  return (
    <li className="memory">
      <p className="memory-title">
        <Link to={`/memories/${memory.id}`}>{headline(memory) || "(empty)"}</Link>
      </p>
      <MemoryMeta memory={memory}>
        <time dateTime={memory.created_at}>{formatDate(memory.created_at)}</time>
      </MemoryMeta>
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
