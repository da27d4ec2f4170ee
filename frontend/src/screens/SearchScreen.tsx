import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { ApiError, SEARCH_MODES, api, type SearchHit, type SearchMode, type SearchResult } from "../api/client";
import { headline } from "../lib/tags";
import { snippetParts } from "../lib/snippet";
import { MemoryMeta } from "../components/MemoryList";
import { useOnline } from "../lib/useOnline";
import { searchOffline, startOfflineSearch } from "../search/offlineSearch";
import { installDevHooks } from "../search/devHooks";

interface Props {
  onUnauthorized?: () => void;
}

export const SEARCH_DEBOUNCE_MS = 300;
const LIMIT = 20;

const MODE_LABELS: Record<SearchMode, string> = {
  auto: "Auto",
  semantic: "Meaning (semantic)",
  keyword: "Words (keyword)",
  hybrid: "Both (hybrid)",
};

/** A server answer, or one from the device (`offline`, with how long the worker took). */
type Answer = SearchResult & { offline?: { ms: number; total: number } };

type State =
  | { status: "idle" }
  | { status: "loading"; previous: Answer | null }
  | { status: "done"; result: Answer }
  | { status: "error"; message: string };

/** The device's copy answers: keyword matching only, whatever the mode. */
async function answerFromDevice(query: string): Promise<Answer> {
  const found = await searchOffline(query, LIMIT);
  return {
    mode_used: "keyword",
    degraded: false,
    results: found.hits.map((hit) => ({ memory: hit.memory, score: hit.score, snippet: hit.snippet })),
    offline: { ms: found.ms, total: found.total },
  };
}

/** Whether a failed search means the server could not be reached (then the device answers). */
function isNetworkError(caught: unknown): boolean {
  return caught instanceof ApiError && caught.status === 0;
}

function toMode(value: string | null): SearchMode {
  return SEARCH_MODES.find((mode) => mode === value) ?? "auto";
}

/** What the screen says for a failed search. */
export function searchErrorMessage(caught: unknown): string {
  if (caught instanceof ApiError) {
    if (caught.status === 429) {
      const seconds = caught.retryAfter ?? Number(/(\d+)\s*s/.exec(caught.detail)?.[1] ?? NaN);
      return Number.isFinite(seconds)
        ? `Too many searches; try again in ${Math.max(1, seconds)} s`
        : "Too many searches; try again in a moment";
    }
    return caught.detail;
  }
  return "Search failed. Try again.";
}

function Snippet({ text }: { text: string }) {
  return (
    <p className="result-snippet">
      {snippetParts(text).map((part, index) =>
        part.match ? <mark key={index}>{part.text}</mark> : <span key={index}>{part.text}</span>,
      )}
    </p>
  );
}

function ResultItem({ hit }: { hit: SearchHit }) {
  const { memory } = hit;
  return (
    <li className="result">
      <p className="memory-title">
        <Link to={`/memories/${memory.id}`}>{headline(memory) || "(empty)"}</Link>
      </p>
      {hit.snippet && <Snippet text={hit.snippet} />}
      <MemoryMeta memory={memory} />
    </li>
  );
}

/**
 * Search: the query and mode live in the URL (/search?q=…&mode=…). Typing updates the URL after
 * a short pause; each URL change starts one request and aborts the one before, and an answer
 * for anything but the current query is ignored. Offline (navigator.onLine false, or the
 * request cannot reach the server) the device's copy answers, through the search worker
 * (search/offlineSearch.ts), marked "Offline results".
 */
export function SearchScreen({ onUnauthorized }: Props) {
  const [params, setParams] = useSearchParams();
  const urlQuery = (params.get("q") ?? "").trim();
  const mode = toMode(params.get("mode"));
  const [text, setText] = useState(params.get("q") ?? "");
  const [state, setState] = useState<State>({ status: "idle" });
  const written = useRef(urlQuery);
  const modeRef = useRef(mode);
  modeRef.current = mode;
  const unauthorized = useRef(onUnauthorized);
  unauthorized.current = onUnauthorized;
  const inputId = useId();
  const modeId = useId();
  const online = useOnline();

  // The worker builds its index while the user types the first query.
  useEffect(() => {
    startOfflineSearch();
    installDevHooks();
  }, []);

  // Back/forward (or a link) changed the URL: show its query in the box.
  useEffect(() => {
    if (urlQuery !== written.current) {
      written.current = urlQuery;
      setText(urlQuery);
    }
  }, [urlQuery]);

  function commit(query: string, nextMode: SearchMode, push: boolean) {
    const trimmed = query.trim();
    written.current = trimmed;
    const next = new URLSearchParams();
    if (trimmed) next.set("q", trimmed);
    if (trimmed || nextMode !== "auto") next.set("mode", nextMode);
    setParams(next, { replace: !push });
  }

  // Typing: write the query to the URL once the user pauses (at once when the box is cleared).
  useEffect(() => {
    const trimmed = text.trim();
    if (trimmed === written.current) return;
    if (!trimmed) {
      commit("", modeRef.current, false);
      return;
    }
    const timer = window.setTimeout(() => {
      if (trimmed !== written.current) commit(trimmed, modeRef.current, false);
    }, SEARCH_DEBOUNCE_MS);
    return () => window.clearTimeout(timer);
  }, [text]);

  // The URL changed: search for it, aborting the previous request.
  useEffect(() => {
    if (!urlQuery) {
      setState({ status: "idle" });
      return;
    }
    const controller = new AbortController();
    let current = true;
    setState((before) => ({
      status: "loading",
      previous: before.status === "done" ? before.result : before.status === "loading" ? before.previous : null,
    }));
    const fromDevice = () =>
      answerFromDevice(urlQuery).then(
        (result) => {
          if (current) setState({ status: "done", result });
        },
        () => {
          if (current) setState({ status: "error", message: "Search on this device failed. Try again." });
        },
      );
    if (!online) {
      void fromDevice();
    } else {
      api
        .search({ q: urlQuery, mode, limit: LIMIT }, controller.signal)
        .then((result) => {
          if (current) setState({ status: "done", result });
        })
        .catch((caught: unknown) => {
          if (!current || controller.signal.aborted) return;
          if (caught instanceof ApiError && caught.status === 401) {
            unauthorized.current?.();
            return;
          }
          if (isNetworkError(caught)) {
            void fromDevice();
            return;
          }
          setState({ status: "error", message: searchErrorMessage(caught) });
        });
    }
    return () => {
      current = false;
      controller.abort();
    };
  }, [urlQuery, mode, online]);

  function submit(event: FormEvent) {
    event.preventDefault();
    if (text.trim() !== written.current) commit(text, mode, false);
  }

  const result = state.status === "done" ? state.result : state.status === "loading" ? state.previous : null;
  const hits = result?.results ?? [];

  return (
    <div className="search-screen">
      <h1 className="visually-hidden">Search</h1>
      <form className="card search-form" role="search" onSubmit={submit}>
        <div className="field search-query">
          <label htmlFor={inputId}>Search memories</label>
          <input
            id={inputId}
            type="search"
            name="q"
            value={text}
            autoComplete="off"
            enterKeyHint="search"
            onChange={(event) => setText(event.target.value)}
          />
        </div>
        <div className="field search-mode">
          <label htmlFor={modeId}>Mode</label>
          <select
            id={modeId}
            name="mode"
            value={mode}
            onChange={(event) => commit(text, toMode(event.target.value), true)}
          >
            {SEARCH_MODES.map((value) => (
              <option key={value} value={value}>
                {MODE_LABELS[value]}
              </option>
            ))}
          </select>
        </div>
      </form>

      <section
        className="card list-card"
        aria-labelledby="results-heading"
        aria-busy={state.status === "loading"}
        data-offline-ms={result?.offline ? result.offline.ms.toFixed(2) : undefined}
      >
        <div className="results-header">
          <h2 id="results-heading">Results</h2>
          {result?.offline && (
            <span className="badge" title="No connection: these are the memories on this device that match your words.">
              Offline results
            </span>
          )}
          {result?.degraded && (
            <span className="badge" title="Search by meaning is unavailable right now; these results match your words.">
              Keyword only
            </span>
          )}
        </div>
        {state.status === "error" && (
          <p role="alert" className="error">
            {state.message}
          </p>
        )}
        <p className="muted search-status" role="status">
          {state.status === "idle"
            ? online
              ? "Type to search your memories by meaning and by words."
              : "Offline: type to search the memories on this device by their words."
            : state.status === "loading" && !result
              ? "Searching…"
              : state.status === "done" && hits.length === 0
                ? "No memories match"
                : ""}
        </p>
        {state.status !== "idle" && state.status !== "error" && (
          <ul className="memory-list" aria-label="Results">
            {hits.map((hit) => (
              <ResultItem key={hit.memory.id} hit={hit} />
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
