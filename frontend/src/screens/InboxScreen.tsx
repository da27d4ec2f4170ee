import { useEffect, useId, useRef, useState, type KeyboardEvent } from "react";
import { Link } from "react-router";
import { AlarmClock, Check, ChevronDown, X } from "lucide-react";
import { ApiError, api, type InboxItem } from "../api/client";
import { announceInboxChanged } from "../lib/memoryEvents";
import { useSession } from "../lib/session";
import { ListMessages } from "../components/ListMessages";
import { headline } from "../lib/tags";
import { problemMessage, useCountedList } from "../lib/useCountedList";
import { SNOOZE_PRESETS, formatInZone, fromDateTimeLocal, snoozeUntil } from "../lib/zonedTime";

interface Props {
  onUnauthorized: () => void;
}

const fetchInboxPage = (signal?: AbortSignal) => api.inbox(undefined, signal);

/** PWA.md's "Snooze" menu: the presets, and "Pick a time" (a date and time on the account's
 * clock). Arrow keys move between the items, Escape closes it. */
function SnoozeMenu({ label, busy, onSnooze }: { label: string; busy: boolean; onSnooze: (until: string) => void }) {
  const { user } = useSession();
  const [open, setOpen] = useState(false);
  const [picking, setPicking] = useState(false);
  const [picked, setPicked] = useState("");
  const menu = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const id = useId();

  useEffect(() => {
    if (open) menu.current?.querySelector<HTMLElement>("[role=menuitem]")?.focus();
  }, [open]);

  function close() {
    setOpen(false);
    button.current?.focus();
  }

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    const items = [...(menu.current?.querySelectorAll<HTMLElement>("[role=menuitem]") ?? [])];
    const at = items.indexOf(document.activeElement as HTMLElement);
    if (event.key === "Escape") {
      event.preventDefault();
      close();
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      items[(at + step + items.length) % items.length]?.focus();
    }
  }

  function choose(until: string) {
    setOpen(false);
    setPicking(false);
    onSnooze(until);
  }

  return (
    <div className="snooze">
      <button
        ref={button}
        type="button"
        className="button"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? id : undefined}
        disabled={busy}
        onClick={() => (open ? close() : setOpen(true))}
      >
        <AlarmClock aria-hidden="true" size={16} />
        <span>Snooze</span>
        <ChevronDown aria-hidden="true" size={14} />
      </button>
      {open && (
        <div ref={menu} id={id} role="menu" aria-label={`Snooze ${label}`} className="menu" onKeyDown={onKeyDown}>
          {SNOOZE_PRESETS.map((preset) => (
            <button
              key={preset.id}
              type="button"
              role="menuitem"
              tabIndex={-1}
              onClick={() => choose(snoozeUntil(preset.id, user.time_zone))}
            >
              {preset.label}
            </button>
          ))}
          <button
            type="button"
            role="menuitem"
            tabIndex={-1}
            onClick={() => {
              setOpen(false);
              setPicking(true);
            }}
          >
            Pick a time
          </button>
        </div>
      )}
      {picking && (
        <form
          className="snooze-pick"
          onSubmit={(event) => {
            event.preventDefault();
            if (picked) choose(fromDateTimeLocal(picked));
          }}
        >
          <label htmlFor={`${id}-time`}>Snooze until</label>
          <input
            id={`${id}-time`}
            type="datetime-local"
            required
            value={picked}
            onChange={(event) => setPicked(event.target.value)}
          />
          <span className="hint">{user.time_zone}</span>
          <button type="submit" className="button primary">
            Snooze
          </button>
          <button type="button" className="button quiet" onClick={() => setPicking(false)}>
            Cancel
          </button>
        </form>
      )}
    </div>
  );
}

/** PWA.md's inbox: due reminders, oldest first, each with Done, Snooze and Dismiss. */
export function InboxScreen({ onUnauthorized }: Props) {
  const { user } = useSession();
  const { load, items, setItems, count, setCount } = useCountedList(
    fetchInboxPage,
    "Could not load your inbox.",
    onUnauthorized,
  );
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState("");
  const [status, setStatus] = useState("");

  async function act(item: InboxItem, run: () => Promise<unknown>, done: string) {
    setBusy(item.id);
    setError("");
    try {
      await run();
      setItems((current) => current.filter((other) => other.id !== item.id));
      setCount((current) => Math.max(0, current - 1));
      setStatus(done);
      announceInboxChanged();
    } catch (caught) {
      if (caught instanceof ApiError && caught.status === 401) onUnauthorized();
      else setError(problemMessage(caught, "That did not work. Please try again."));
    } finally {
      setBusy(null);
    }
  }

  return (
    <section className="card inbox" aria-labelledby="inbox-heading" aria-busy={load.state === "loading"}>
      <h1 id="inbox-heading">Inbox</h1>
      <p className="muted">
        {load.state === "ready" && count > items.length
          ? `The ${items.length} oldest of ${count} due reminders.`
          : "Reminders that are due, oldest first."}
      </p>
      <ListMessages load={load} error={error} status={status} />
      {load.state === "ready" && items.length === 0 && (
        <p className="muted">Nothing is due. Reminders you set with “Remind me” arrive here on time.</p>
      )}
      <ul className="reminder-list" aria-label="Due reminders">
        {items.map((item) => {
          const title = headline({ title: item.memory.title, content: item.memory.excerpt }) || "(empty)";
          return (
            <li key={item.id} className="reminder-item">
              <p className="memory-title">
                <Link to={`/memories/${item.memory.id}`}>{title}</Link>
              </p>
              {item.memory.excerpt && item.memory.excerpt !== title && (
                <p className="excerpt">{item.memory.excerpt}</p>
              )}
              <p className="when">
                <time dateTime={item.remind_at}>{formatInZone(item.remind_at, user.time_zone)}</time>
                {item.overdue && <span className="overdue"> · delivered late</span>}
                {item.recurrence && <span> · repeats</span>}
              </p>
              <div className="reminder-actions">
                <button
                  type="button"
                  className="button primary"
                  disabled={busy === item.id}
                  onClick={() => void act(item, () => api.reminderAction(item.id, "done"), `Done: ${title}.`)}
                >
                  <Check aria-hidden="true" size={16} />
                  <span>Done</span>
                </button>
                <SnoozeMenu
                  label={title}
                  busy={busy === item.id}
                  onSnooze={(until) =>
                    void act(
                      item,
                      () => api.snoozeReminder(item.id, until),
                      `Snoozed: ${title}.`,
                    )
                  }
                />
                <button
                  type="button"
                  className="button quiet"
                  disabled={busy === item.id}
                  onClick={() => void act(item, () => api.reminderAction(item.id, "dismiss"), `Dismissed: ${title}.`)}
                >
                  <X aria-hidden="true" size={16} />
                  <span>Dismiss</span>
                </button>
              </div>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
