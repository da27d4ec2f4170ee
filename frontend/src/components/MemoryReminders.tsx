import { useCallback, useEffect, useId, useState, type FormEvent } from "react";
import { BellPlus, Trash2 } from "lucide-react";
import { ApiError, api, type Reminder } from "../api/client";
import { announceInboxChanged } from "../lib/memoryEvents";
import { useSession } from "../lib/session";
import { formatInZone, fromDateTimeLocal } from "../lib/zonedTime";

interface Props {
  memoryId: string;
  /** The memory's text: a reminder asked for in it is detected by the server shortly after a save. */
  content: string;
  onUnauthorized: () => void;
}

// The server's triggers (reminders/detection.py), to know when a detected reminder may be on
// its way; detection itself is the server's.
const TRIGGER = /\bremind\s+me\b|\breminder\s*:|\b(?:don['\u2019]?t|do\s+not)\s+forget\b/i;
// Up to 30 s: a worker busy with a batch (or loading its model) may take longer than a few seconds.
const DETECTION_POLLS = 15;
const DETECTION_POLL_MS = 2_000;

const STATE_TEXT: Partial<Record<Reminder["state"], string>> = {
  due: "in your inbox",
  snoozed: "snoozed",
};

/** A memory's reminders: when each is, where it came from (the phrase it was detected from),
 * a way to remove it, and "Remind me" to add one. */
export function MemoryReminders({ memoryId, content, onUnauthorized }: Props) {
  const { user } = useSession();
  const [reminders, setReminders] = useState<Reminder[] | null>(null);
  const [remindAt, setRemindAt] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const id = useId();

  const failed = useCallback(
    (caught: unknown, fallback: string) => {
      if (caught instanceof ApiError && caught.status === 401) onUnauthorized();
      else setError(caught instanceof ApiError ? caught.detail : fallback);
    },
    [onUnauthorized],
  );

  useEffect(() => {
    const controller = new AbortController();
    let polls = 0;
    let timer = 0;
    const fetchReminders = () => {
      api
        .memoryReminders(memoryId, controller.signal)
        .then((found) => {
          setReminders(found);
          const waiting = TRIGGER.test(content) && !found.some((r) => r.source === "detected");
          if (waiting && ++polls < DETECTION_POLLS) timer = window.setTimeout(fetchReminders, DETECTION_POLL_MS);
        })
        .catch((caught: unknown) => {
          if (!controller.signal.aborted) failed(caught, "Could not load this memory's reminders.");
        });
    };
    fetchReminders();
    return () => {
      controller.abort();
      window.clearTimeout(timer);
    };
  }, [memoryId, content, failed]);

  async function change(run: () => Promise<void>, fallback: string) {
    setBusy(true);
    setError("");
    try {
      await run();
      announceInboxChanged();
    } catch (caught) {
      failed(caught, fallback);
    } finally {
      setBusy(false);
    }
  }

  function add(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!remindAt) return;
    void change(async () => {
      const added = await api.addReminder(memoryId, fromDateTimeLocal(remindAt));
      setReminders((current) =>
        [...(current ?? []), added].sort((a, b) => a.remind_at.localeCompare(b.remind_at)),
      );
      setRemindAt("");
    }, "Could not add the reminder.");
  }

  function remove(reminder: Reminder) {
    void change(async () => {
      await api.deleteReminder(reminder.id);
      setReminders((current) => (current ?? []).filter((r) => r.id !== reminder.id));
    }, "Could not remove the reminder.");
  }

  return (
    <section className="reminders" aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`}>Reminders</h2>
      {reminders !== null && reminders.length === 0 && <p className="muted">No reminder.</p>}
      {reminders !== null && reminders.length > 0 && (
        <ul className="reminder-list" aria-label="Reminders">
          {reminders.map((reminder) => (
            <li key={reminder.id} className="reminder-item">
              <p className="when">
                <time dateTime={reminder.remind_at}>{formatInZone(reminder.remind_at, user.time_zone)}</time>
                {STATE_TEXT[reminder.state] && <span> · {STATE_TEXT[reminder.state]}</span>}
                {reminder.recurrence && <span> · repeats</span>}
              </p>
              <p className="muted">
                {reminder.source === "detected" ? `Detected from “${reminder.phrase ?? ""}”` : "Set by you"}
              </p>
              <button type="button" className="button quiet" disabled={busy} onClick={() => remove(reminder)}>
                <Trash2 aria-hidden="true" size={16} />
                <span>Remove reminder</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <form className="add-reminder" onSubmit={add}>
        <div className="field">
          <label htmlFor={`${id}-time`}>Remind me</label>
          <input
            id={`${id}-time`}
            type="datetime-local"
            required
            aria-describedby={`${id}-zone`}
            value={remindAt}
            onChange={(event) => setRemindAt(event.target.value)}
          />
          <p id={`${id}-zone`} className="hint">
            {user.time_zone} time
          </p>
        </div>
        <button type="submit" className="button" disabled={busy}>
          <BellPlus aria-hidden="true" size={16} />
          <span>Add reminder</span>
        </button>
      </form>
    </section>
  );
}
