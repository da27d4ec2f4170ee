import { useCallback, useEffect, useId, useRef, useState, type FormEvent } from "react";
import { Copy, KeyRound, Trash2 } from "lucide-react";
import {
  ApiError,
  api,
  cursorFrom,
  newIdempotencyKey,
  type ApiToken,
  type ApiTokenCreated,
  type Usage,
} from "../api/client";
import { ListMessages } from "../components/ListMessages";
import type { ListLoad } from "../lib/useCountedList";
import { StorageSection } from "../components/StorageSection";
import { TimeZoneSection } from "../components/TimeZoneSection";

interface Props {
  onUnauthorized?: () => void;
}

type LimitName = keyof Usage["limits"];

/** The plan's limits, in the order the screen lists them, with what each counts. */
export const USAGE_LIMITS: readonly { name: LimitName; label: string; money?: boolean }[] = [
  { name: "max_memories", label: "Memories stored" },
  { name: "saves_per_day", label: "Saves today" },
  { name: "enrichments_per_month", label: "AI enrichments this month" },
  { name: "ai_budget_usd_per_month", label: "AI spend this month", money: true },
  { name: "searches_per_minute", label: "Searches this minute" },
  { name: "writes_per_minute", label: "Changes this minute" },
];

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const countFormat = new Intl.NumberFormat();
const usdFormat = new Intl.NumberFormat(undefined, {
  style: "currency",
  currency: "USD",
  minimumFractionDigits: 2,
  maximumFractionDigits: 4,
});

function formatDate(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : dateFormat.format(date);
}

/** A count, or an amount in USD (the API sends money as a decimal string). */
function amount(value: number | string, money: boolean): string {
  const number = Number(value);
  if (!Number.isFinite(number)) return String(value);
  return money ? usdFormat.format(number) : countFormat.format(number);
}

function isUnauthorized(caught: unknown): boolean {
  return caught instanceof ApiError && caught.status === 401;
}

function isAbort(caught: unknown): boolean {
  return caught instanceof DOMException && caught.name === "AbortError";
}

function waitText(seconds: number): string {
  return seconds < 90 ? `${Math.max(1, seconds)} s` : `${Math.ceil(seconds / 60)} min`;
}

/** What the screen says for a failed token request: the server's reason when it gave one. */
export function tokenErrorMessage(caught: unknown, fallback: string): string {
  if (!(caught instanceof ApiError)) return fallback;
  if (caught.status === 429) {
    return caught.retryAfter !== null
      ? `Too many changes; try again in ${waitText(caught.retryAfter)}`
      : "Too many changes; try again in a moment";
  }
  const nameErrors = caught.fields.name;
  if (Array.isArray(nameErrors) && typeof nameErrors[0] === "string") return nameErrors[0];
  return caught.detail;
}

type UsageState = { status: "loading" } | { status: "ready"; usage: Usage } | { status: "error"; message: string };

interface UsageRowProps {
  name: LimitName;
  label: string;
  money?: boolean;
  usage?: Usage;
}

function UsageRow({ name, label, money = false, usage }: UsageRowProps) {
  const labelId = useId();
  if (!usage) {
    // Same lines and heights as a loaded row, so nothing moves when the numbers arrive.
    return (
      <li className="usage-row">
        <span className="usage-label">{label}</span>
        <span className="usage-amount">
          <span className="skeleton" />
        </span>
        <span className="usage-bar-placeholder skeleton" />
        <span className="usage-resets">
          <span className="skeleton wide" />
        </span>
      </li>
    );
  }
  // Defaults for a limit the server does not send (an older server, or a malformed answer).
  const limit = usage.limits?.[name] ?? null;
  const used = usage.used?.[name] ?? 0;
  const resetsAt = usage.resets_at?.[name] ?? null;
  const usedNumber = Number(used);
  const limitNumber = limit === null ? null : Number(limit);
  const usedText = amount(used, money);
  const limitText = limit === null ? "unlimited" : amount(limit, money);
  return (
    <li className="usage-row">
      <span className="usage-label" id={labelId}>
        {label}
      </span>
      <span className="usage-amount">
        {usedText} / {limitText}
      </span>
      {limitNumber === null ? (
        <span className="usage-bar-placeholder" aria-hidden="true" />
      ) : (
        <meter
          className="usage-bar"
          aria-labelledby={labelId}
          aria-valuetext={`${usedText} of ${limitText}`}
          min={0}
          // A zero limit (nothing allowed) is shown as full.
          max={limitNumber > 0 ? limitNumber : 1}
          value={limitNumber > 0 ? Math.min(usedNumber, limitNumber) : 1}
          low={limitNumber > 0 ? limitNumber * 0.8 : undefined}
          high={limitNumber > 0 ? limitNumber * 0.95 : undefined}
          optimum={0}
        />
      )}
      <span className="usage-resets muted">
        {resetsAt === null ? (
          "Never resets"
        ) : (
          <>
            Resets <time dateTime={resetsAt}>{formatDate(resetsAt)}</time>
          </>
        )}
      </span>
    </li>
  );
}

function UsageSection({ onUnauthorized }: { onUnauthorized: () => void }) {
  const [state, setState] = useState<UsageState>({ status: "loading" });
  const unauthorized = useRef(onUnauthorized);
  unauthorized.current = onUnauthorized;

  useEffect(() => {
    const controller = new AbortController();
    api
      .usage(controller.signal)
      .then((usage) => setState({ status: "ready", usage }))
      .catch((caught: unknown) => {
        if (controller.signal.aborted || isAbort(caught)) return;
        if (isUnauthorized(caught)) {
          unauthorized.current();
          return;
        }
        setState({
          status: "error",
          message: caught instanceof ApiError ? caught.detail : "Could not load your usage.",
        });
      });
    return () => controller.abort();
  }, []);

  const usage = state.status === "ready" ? state.usage : undefined;
  return (
    <section className="card usage" aria-labelledby="usage-heading" aria-busy={state.status === "loading"}>
      <h2 id="usage-heading">Plan and usage</h2>
      {state.status === "error" ? (
        <p role="alert" className="error">
          {state.message}
        </p>
      ) : (
        <>
          <p className="usage-plan">
            Plan:{" "}
            {usage ? <strong className="plan-name">{usage.plan}</strong> : <span className="skeleton" />}
          </p>
          <ul className="usage-list" aria-label="Usage">
            {USAGE_LIMITS.map((limit) => (
              <UsageRow key={limit.name} {...limit} usage={usage} />
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

/** The secret of a token just created: shown this once, with a copy button. */
function NewToken({ created, onDone }: { created: ApiTokenCreated; onDone: () => void }) {
  const inputId = useId();
  const noteId = useId();
  const input = useRef<HTMLInputElement>(null);
  const done = useRef<HTMLButtonElement>(null);
  const [copyMessage, setCopyMessage] = useState("");

  useEffect(() => {
    if (input.current) {
      input.current.focus();
      input.current.select();
    } else {
      done.current?.focus();
    }
  }, []);

  async function copy() {
    const secret = created.token ?? "";
    try {
      if (!navigator.clipboard) throw new Error("no clipboard");
      await navigator.clipboard.writeText(secret);
      setCopyMessage("Copied");
    } catch {
      input.current?.focus();
      input.current?.select();
      setCopyMessage("Could not copy. The token is selected: copy it by hand.");
    }
  }

  return (
    <div className="new-token">
      {created.token ? (
        <>
          <div className="field">
            <label htmlFor={inputId}>New token</label>
            <input
              ref={input}
              id={inputId}
              type="text"
              readOnly
              value={created.token}
              spellCheck={false}
              autoComplete="off"
              aria-describedby={noteId}
              onFocus={(event) => event.currentTarget.select()}
            />
          </div>
          <p id={noteId} className="hint">
            Copy “{created.name}” now: it will not be shown again. Scripts send it in an{" "}
            <code>Authorization: Bearer</code> header.
          </p>
        </>
      ) : (
        <p className="hint">
          “{created.name}” was created, but its secret can no longer be shown. Revoke it and create another.
        </p>
      )}
      <div className="new-token-actions">
        {created.token && (
          <button type="button" className="button" onClick={copy}>
            <Copy aria-hidden="true" size={16} />
            <span>Copy token</span>
          </button>
        )}
        <p className="copy-message" role="status">
          {copyMessage}
        </p>
        <button ref={done} type="button" className="button primary" onClick={onDone}>
          Done
        </button>
      </div>
    </div>
  );
}

interface TokenItemProps {
  token: ApiToken;
  confirming: boolean;
  revoking: boolean;
  onAsk: () => void;
  onCancel: () => void;
  onRevoke: () => void;
}

function TokenItem({ token, confirming, revoking, onAsk, onCancel, onRevoke }: TokenItemProps) {
  const ask = useRef<HTMLButtonElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  const wasConfirming = useRef(confirming);

  // Focus follows the inline confirmation: into it when it opens, back to Revoke when cancelled.
  useEffect(() => {
    if (confirming) cancel.current?.focus();
    else if (wasConfirming.current) ask.current?.focus();
    wasConfirming.current = confirming;
  }, [confirming]);

  return (
    <li className="token">
      <div className="token-info">
        <p className="token-name">{token.name}</p>
        <p className="token-meta muted">
          <span>
            Created <time dateTime={token.created_at}>{formatDate(token.created_at)}</time>
          </span>
          <span>
            {token.last_used_at ? (
              <>
                Last used <time dateTime={token.last_used_at}>{formatDate(token.last_used_at)}</time>
              </>
            ) : (
              "Never used"
            )}
          </span>
        </p>
      </div>
      {confirming ? (
        <div className="token-confirm" role="group" aria-label={`Revoke ${token.name}?`}>
          <span className="token-confirm-text">Apps using it stop working at once.</span>
          <button type="button" className="button danger" onClick={onRevoke} disabled={revoking}>
            Revoke
          </button>
          <button ref={cancel} type="button" className="button" onClick={onCancel} disabled={revoking}>
            Cancel
          </button>
        </div>
      ) : (
        <button ref={ask} type="button" className="button quiet" onClick={onAsk}>
          <Trash2 aria-hidden="true" size={16} />
          <span>Revoke</span> <span className="visually-hidden">{token.name}</span>
        </button>
      )}
    </li>
  );
}

/** Appends a page, skipping tokens already shown (one created meanwhile shifts the pages). */
function appendTokens(list: ApiToken[], page: ApiToken[]): ApiToken[] {
  const ids = new Set(list.map((token) => token.id));
  return [...list, ...page.filter((token) => !ids.has(token.id))];
}

function TokensSection({ onUnauthorized }: { onUnauthorized: () => void }) {
  const [tokens, setTokens] = useState<ApiToken[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [list, setList] = useState<ListLoad>({ state: "loading" });
  const [loadingMore, setLoadingMore] = useState(false);
  const [name, setName] = useState("");
  // One key per token the user means to create, so a retried Create is not a second token.
  const [idempotencyKey, setIdempotencyKey] = useState(newIdempotencyKey);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<ApiTokenCreated | null>(null);
  const [confirming, setConfirming] = useState<number | null>(null);
  const [revoking, setRevoking] = useState<number | null>(null);
  const [error, setError] = useState("");
  const [announcement, setAnnouncement] = useState("");
  const nameInput = useRef<HTMLInputElement>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const unauthorized = useRef(onUnauthorized);
  unauthorized.current = onUnauthorized;
  const nameId = useId();

  function fail(caught: unknown, fallback: string) {
    if (isAbort(caught)) return;
    if (isUnauthorized(caught)) {
      unauthorized.current();
      return;
    }
    setError(tokenErrorMessage(caught, fallback));
  }

  useEffect(() => {
    const controller = new AbortController();
    api
      .listTokens(null, controller.signal)
      .then((page) => {
        setTokens((current) => appendTokens(current, page.results));
        setCursor(cursorFrom(page.next));
        setList({ state: "ready" });
      })
      .catch((caught: unknown) => {
        if (controller.signal.aborted) return;
        if (isUnauthorized(caught)) unauthorized.current();
        else setList({ state: "error", message: tokenErrorMessage(caught, "Could not load your API tokens.") });
      });
    return () => controller.abort();
  }, []);

  function loadMore() {
    if (!cursor || loadingMore) return;
    setLoadingMore(true);
    api
      .listTokens(cursor)
      .then((page) => {
        setTokens((current) => appendTokens(current, page.results));
        setCursor(cursorFrom(page.next));
      })
      .catch((caught: unknown) => fail(caught, "Could not load more tokens."))
      .finally(() => setLoadingMore(false));
  }

  async function create(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const trimmed = name.trim();
    if (!trimmed) {
      setError("Give the token a name, such as the device or app that will use it.");
      nameInput.current?.focus();
      return;
    }
    setCreating(true);
    setError("");
    setAnnouncement("");
    try {
      const answer = await api.createToken(trimmed, idempotencyKey);
      const now = new Date().toISOString();
      setTokens((current) => [
        { id: answer.id, name: answer.name, created_at: now, last_used_at: null },
        ...current.filter((token) => token.id !== answer.id),
      ]);
      setCreated(answer);
      setName("");
      setIdempotencyKey(newIdempotencyKey());
    } catch (caught) {
      fail(caught, "Could not create the token. Try again.");
    } finally {
      setCreating(false);
    }
  }

  function dismissSecret() {
    setCreated(null);
    nameInput.current?.focus();
  }

  async function revoke(token: ApiToken) {
    setRevoking(token.id);
    setError("");
    setAnnouncement("");
    try {
      await api.revokeToken(token.id);
      removed(token);
    } catch (caught) {
      if (caught instanceof ApiError && caught.status === 404) {
        removed(token); // already revoked (elsewhere, or by a request whose answer was lost)
      } else {
        fail(caught, "Could not revoke the token. Try again.");
      }
    } finally {
      setRevoking(null);
    }
  }

  function removed(token: ApiToken) {
    setTokens((current) => current.filter((t) => t.id !== token.id));
    setConfirming(null);
    setAnnouncement(`Revoked “${token.name}”.`);
    heading.current?.focus();
  }

  return (
    <section className="card tokens" aria-labelledby="tokens-heading">
      <h2 id="tokens-heading" ref={heading} tabIndex={-1}>
        API tokens
      </h2>
      <p className="muted tokens-intro">
        A token lets a script or an AI assistant use your memories through the API. Revoke the ones you no longer use.
      </p>
      <form className="token-form" onSubmit={create}>
        <div className="field">
          <label htmlFor={nameId}>Token name</label>
          <input
            ref={nameInput}
            id={nameId}
            type="text"
            maxLength={100}
            autoComplete="off"
            value={name}
            onChange={(event) => {
              setName(event.target.value);
              // Another name is another request: its own key (the server refuses a reused one).
              setIdempotencyKey(newIdempotencyKey());
            }}
          />
        </div>
        <button type="submit" className="button primary" disabled={creating}>
          <KeyRound aria-hidden="true" size={16} />
          <span>Create token</span>
        </button>
      </form>
      {created && <NewToken key={created.id} created={created} onDone={dismissSecret} />}
      <ListMessages load={list} error={error} status={announcement} loadingText="Loading your tokens…" />
      {list.state === "ready" && tokens.length === 0 && <p className="muted">No API tokens yet.</p>}
      {list.state !== "loading" && (
        <ul className="token-list" aria-label="API tokens">
          {tokens.map((token) => (
            <TokenItem
              key={token.id}
              token={token}
              confirming={confirming === token.id}
              revoking={revoking === token.id}
              onAsk={() => setConfirming(token.id)}
              onCancel={() => setConfirming(null)}
              onRevoke={() => revoke(token)}
            />
          ))}
        </ul>
      )}
      {cursor && (
        <div className="list-end">
          <button type="button" className="button" onClick={loadMore} disabled={loadingMore}>
            {loadingMore ? "Loading…" : "Load more tokens"}
          </button>
        </div>
      )}
    </section>
  );
}

/** Settings: the plan's limits and what is used of each, the user's API tokens, and the
 * device's storage. */
export function SettingsScreen({ onUnauthorized }: Props) {
  const unauthorized = useRef(onUnauthorized);
  unauthorized.current = onUnauthorized;
  // Both sections may hear 401 at once: sign out once.
  const signedOut = useRef(false);
  const onAnyUnauthorized = useCallback(() => {
    if (signedOut.current) return;
    signedOut.current = true;
    unauthorized.current?.();
  }, []);

  return (
    <div className="settings-screen">
      <h1 className="visually-hidden">Settings</h1>
      <TimeZoneSection onUnauthorized={onAnyUnauthorized} />
      <UsageSection onUnauthorized={onAnyUnauthorized} />
      <TokensSection onUnauthorized={onAnyUnauthorized} />
      <StorageSection />
    </div>
  );
}
