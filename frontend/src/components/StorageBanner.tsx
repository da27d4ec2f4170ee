import { useState } from "react";
import { HardDrive, X } from "lucide-react";
import { useOfflineEvents } from "../lib/useOffline";
import { hasHeldEntries } from "../offline/queue";

/** Shown when the device's storage refused a save: it is kept in this page's memory until space
 * or the network returns, and the export keeps everything already on the server. */
export function StorageBanner() {
  const [shown, setShown] = useState(false);
  useOfflineEvents((event) => {
    if (event.type === "storage-full") setShown(true);
    // Once the held saves are stored or sent, there is nothing left to warn about.
    else if (event.type === "queue" && shown && !hasHeldEntries()) setShown(false);
  });
  if (!shown) return null;
  return (
    <div role="alert" className="storage-banner">
      <HardDrive aria-hidden="true" size={18} />
      <p>
        This device's storage is full. Your save is kept in memory until space or the network returns: keep this
        tab open. <a href="/api/v1/export">Export your memories</a>
      </p>
      <button type="button" className="icon-button" aria-label="Dismiss storage warning" onClick={() => setShown(false)}>
        <X aria-hidden="true" size={16} />
      </button>
    </div>
  );
}
