import { useEffect, useRef, useState } from "react";
import { Link, useLocation, useNavigate } from "react-router";
import { enqueueCreate } from "../offline/queue";
import { memoryFromShare, sharedFieldsFromQuery, sharedLocation } from "./fromShare";

/** `/share?url=…&title=…&text=…`: the bookmarklet's page (and the service worker's hand-over
 * when it could not store a share). Where the worker is installed it answers this address
 * itself; without it (a first visit, a browser without service workers) this screen queues the
 * shared memory and opens the list on it, replacing its own address so Back or a reload never
 * queues it twice. */
export function ShareScreen() {
  const location = useLocation();
  const navigate = useNavigate();
  const started = useRef<string | null>(null);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    // Once per address: StrictMode runs effects twice, and a save must be queued once.
    if (started.current === location.search) return;
    started.current = location.search;
    const memory = memoryFromShare(sharedFieldsFromQuery(new URLSearchParams(location.search)));
    if (!memory) {
      void navigate(sharedLocation(null), { replace: true });
      return;
    }
    enqueueCreate(memory).then(
      (entry) => void navigate(sharedLocation(entry.memoryId), { replace: true }),
      () => setFailed(true),
    );
  }, [location.search, navigate]);

  if (failed) {
    return (
      <section className="card" role="alert">
        <h1>Could not save what was shared</h1>
        <p className="muted">
          This browser refused to store it. <Link to="/">Go to your memories</Link>.
        </p>
      </section>
    );
  }
  return (
    <p className="muted" aria-busy="true">
      Saving what was shared…
    </p>
  );
}
