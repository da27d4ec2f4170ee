import { useId, useMemo, useState } from "react";
import { Globe } from "lucide-react";
import { ApiError, api } from "../api/client";
import { useSession } from "../lib/session";
import { browserTimeZone } from "../lib/zonedTime";

/** Every zone the browser knows, with the account's and UTC always among them. */
export function timeZoneChoices(current: string, known: readonly string[] = Intl.supportedValuesOf("timeZone")): string[] {
  return [...new Set([...known, current, "UTC"])].sort();
}

/** Settings' "Time zone": where "tomorrow at 9" and the snooze presets are read. */
export function TimeZoneSection({ onUnauthorized }: { onUnauthorized: () => void }) {
  const { user, setUser } = useSession();
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState("");
  const [status, setStatus] = useState("");
  const choices = useMemo(() => timeZoneChoices(user.time_zone), [user.time_zone]);
  const id = useId();
  const browser = browserTimeZone();

  async function choose(zone: string) {
    setSaving(true);
    setError("");
    setStatus("");
    try {
      setUser(await api.setTimeZone(zone));
      setStatus(`Time zone set to ${zone}.`);
    } catch (caught) {
      if (caught instanceof ApiError && caught.status === 401) onUnauthorized();
      else setError(caught instanceof ApiError ? caught.detail : "Could not change the time zone.");
    } finally {
      setSaving(false);
    }
  }

  return (
    <section className="card" aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`}>
        <Globe aria-hidden="true" size={18} /> Time zone
      </h2>
      <div className="field">
        <label htmlFor={`${id}-zone`}>Time zone</label>
        <select
          id={`${id}-zone`}
          value={user.time_zone}
          disabled={saving}
          aria-describedby={`${id}-hint`}
          onChange={(event) => void choose(event.target.value)}
        >
          {choices.map((zone) => (
            <option key={zone} value={zone}>
              {zone.replaceAll("_", " ")}
            </option>
          ))}
        </select>
        <p id={`${id}-hint`} className="hint">
          Reminders are set and shown in this zone.
          {browser !== user.time_zone && ` This device is in ${browser}.`}
        </p>
      </div>
      {browser !== user.time_zone && (
        <button type="button" className="button" disabled={saving} onClick={() => void choose(browser)}>
          Use {browser}
        </button>
      )}
      <p role="status" className="save-message">
        {status}
      </p>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </section>
  );
}
