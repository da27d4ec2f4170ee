import { useState } from "react";
import { RefreshCw } from "lucide-react";
import { usePendingCount } from "../lib/useOffline";
import { syncNow } from "../offline/sync";

/** "N waiting to sync" while the queue holds saves (in this tab or another), and "Sync now". */
export function SyncStatus() {
  const pending = usePendingCount();
  const [syncing, setSyncing] = useState(false);

  function sync() {
    setSyncing(true);
    syncNow()
      .catch(() => undefined)
      .finally(() => setSyncing(false));
  }

  return (
    <div className="sync-status">
      <span className="pending-count" aria-live="polite">
        {pending > 0 ? `${pending} waiting to sync` : ""}
      </span>
      <button type="button" className="button quiet" onClick={sync} disabled={syncing}>
        <RefreshCw aria-hidden="true" size={16} />
        <span>Sync now</span>
      </button>
    </div>
  );
}
