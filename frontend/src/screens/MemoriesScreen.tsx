import { useEffect, useState } from "react";
import { CaptureForm } from "../components/CaptureForm";
import { MemoryList } from "../components/MemoryList";
import { useDeviceMemories, useOfflineEvents } from "../lib/useOffline";
import { useOnline } from "../lib/useOnline";
import { copyIsComplete } from "../offline/copy";
import { syncSoon } from "../offline/sync";

/** Rows drawn at first, and added per "Load more" (the copy is all on the device; this keeps
 * the page light with thousands of memories). */
export const LIST_PAGE = 50;

interface Props {
  /** Kept for the router's uniform screen props; the replay reports a 401 itself. */
  onUnauthorized?: () => void;
}

/** Capture, and the list from the device's copy (PWA.md "The device keeps a copy"): the same
 * online, offline and after a reload offline, the user's pending saves on top with their state.
 * Why not the server's list while online: the copy is complete after the first full sync and
 * kept current by the changes feed, and one source means a save never jumps or vanishes when
 * the connection changes. */
export function MemoriesScreen(_props: Props) {
  const { memories, loaded } = useDeviceMemories();
  const online = useOnline();
  const [complete, setComplete] = useState<boolean | null>(null);
  const [shown, setShown] = useState(LIST_PAGE);

  useEffect(() => {
    void copyIsComplete().then(setComplete);
    // Opening the list brings what changed on the server meanwhile (a merge, another device).
    if (navigator.onLine) void syncSoon().catch(() => undefined);
  }, []);
  useOfflineEvents((event) => {
    if (event.type === "copy" && !complete) void copyIsComplete().then(setComplete);
  });

  const fetching = complete === false;
  const loading = !loaded || (fetching && online && memories.length === 0);
  const visible = memories.slice(0, shown);

  return (
    <div className="memories-screen">
      <h1 className="visually-hidden">Memories</h1>
      <CaptureForm />
      <section className="card list-card" aria-labelledby="list-heading" aria-busy={loading}>
        <h2 id="list-heading">Your memories</h2>
        {loading && <p className="muted">Loading your memories…</p>}
        {fetching && !online && (
          <p className="muted">Your memories come to this device the next time it is online.</p>
        )}
        {!loading && complete && memories.length === 0 && (
          <p className="muted">Nothing here yet. What you save above appears here, newest first.</p>
        )}
        <MemoryList
          memories={visible}
          hasMore={memories.length > shown}
          loading={false}
          onLoadMore={() => setShown((current) => current + LIST_PAGE)}
        />
      </section>
    </div>
  );
}
