import type { MemorySave } from "../api/client";
import { CaptureForm } from "../components/CaptureForm";
import { MemoryList } from "../components/MemoryList";
import { useMemories } from "../lib/useMemories";

interface Props {
  onUnauthorized: () => void;
}

export function MemoriesScreen({ onUnauthorized }: Props) {
  const { memories, state, error, hasMore, loadingMore, loadMore, add } = useMemories(onUnauthorized);

  function saved(memory: MemorySave) {
    const { duplicate: _duplicate, ...rest } = memory;
    add(rest);
  }

  return (
    <div className="memories-screen">
      <h1 className="visually-hidden">Memories</h1>
      <CaptureForm onSaved={saved} />
      <section className="card list-card" aria-labelledby="list-heading" aria-busy={state === "loading"}>
        <h2 id="list-heading">Your memories</h2>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        {state === "loading" && <p className="muted">Loading your memories…</p>}
        {state === "ready" && memories.length === 0 && (
          <p className="muted">Nothing here yet. What you save above appears here, newest first.</p>
        )}
        {state !== "loading" && (
          <MemoryList memories={memories} hasMore={hasMore} loading={loadingMore} onLoadMore={loadMore} />
        )}
      </section>
    </div>
  );
}
