import type { ListLoad } from "../lib/useCountedList";

interface ListMessagesProps {
  load: ListLoad;
  error: string;
  status: string;
  loadingText?: string;
}

/** What a list says above its items: why the list could not load, why an action failed, what an
 * action did (for screen readers), and that it is loading. */
export function ListMessages({ load, error, status, loadingText = "Loading…" }: ListMessagesProps) {
  return (
    <>
      {load.state === "error" && (
        <p role="alert" className="error">
          {load.message}
        </p>
      )}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <p className="visually-hidden" role="status">
        {status}
      </p>
      {load.state === "loading" && <p className="muted">{loadingText}</p>}
    </>
  );
}
