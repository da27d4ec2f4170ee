import { useId, useState } from "react";
import { Link } from "react-router";
import { Combine, Copy } from "lucide-react";
import { ApiError, api, type Memory, type Pair } from "../api/client";
import { MemoryMeta } from "../components/MemoryList";
import { useNotice } from "../components/Notice";
import { TextDiff } from "../components/TextDiff";
import { announceDuplicatesChanged, announceRestored } from "../lib/memoryEvents";
import { syncSoon } from "../offline/sync";
import { ListMessages } from "../components/ListMessages";
import { headline } from "../lib/tags";
import { problemMessage, useCountedList } from "../lib/useCountedList";

interface Props {
  onUnauthorized: () => void;
}

const fetchPairsPage = (signal?: AbortSignal) => api.nearDuplicates(undefined, signal);

/** "97.4 % alike": rounded down, so a pair that is not identical never reads 100 %. */
export function alikeness(similarity: number): string {
  const percent = Math.floor(similarity * 1000 + 1e-6) / 10; // 0.97 * 1000 is 969.99…
  return `${percent.toLocaleString("en-US", { maximumFractionDigits: 1 })} % alike`;
}

/** Puts a pair back in its place in a list ordered most alike first, as the API orders it. */
export function insertBySimilarity(pairs: Pair[], pair: Pair): Pair[] {
  const rest = pairs.filter((other) => other.id !== pair.id);
  const at = rest.findIndex((other) => other.similarity < pair.similarity);
  return at < 0 ? [...rest, pair] : [...rest.slice(0, at), pair, ...rest.slice(at)];
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

interface SideProps {
  heading: string;
  memory: Memory;
  other: Memory;
  show: "before" | "after";
}

/** One memory of a pair: its text with the differences from the other marked, and its tags. */
function PairSide({ heading, memory, other, show }: SideProps) {
  const headingId = useId();
  const [before, after] = show === "before" ? [memory, other] : [other, memory];
  return (
    <section className="pair-side" aria-labelledby={headingId}>
      <h2 id={headingId} className="pair-side-heading">
        {heading}
      </h2>
      {memory.title && <p className="memory-title">{memory.title}</p>}
      <TextDiff before={before.content} after={after.content} show={show} />
      <MemoryMeta memory={memory}>
        <time dateTime={memory.created_at}>{dateFormat.format(new Date(memory.created_at))}</time>
        {/* The text is shown above: the link's visible name stays short. */}
        <Link to={`/memories/${memory.id}`} aria-label={`Open “${headline(memory) || "memory"}”`}>
          Open
        </Link>
      </MemoryMeta>
    </section>
  );
}

interface PairItemProps {
  pair: Pair;
  busy: boolean;
  onMerge: () => void;
  onKeepBoth: () => void;
}

function PairItem({ pair, busy, onMerge, onKeepBoth }: PairItemProps) {
  return (
    <li className="pair">
      <p className="pair-facts">
        <span>{alikeness(pair.similarity)}</span>
        {pair.same_link && <span className="badge same-link">Same link</span>}
      </p>
      <div className="pair-columns">
        <PairSide heading="Kept" memory={pair.memory} other={pair.similar} show="before" />
        <PairSide heading="Newer" memory={pair.similar} other={pair.memory} show="after" />
      </div>
      <div className="reminder-actions">
        <button type="button" className="button primary" disabled={busy} onClick={onMerge}>
          <Combine aria-hidden="true" size={16} />
          <span>Merge</span>
        </button>
        <button type="button" className="button" disabled={busy} onClick={onKeepBoth}>
          <Copy aria-hidden="true" size={16} />
          <span>Keep both</span>
        </button>
      </div>
    </li>
  );
}

/** PWA.md's duplicates: pairs of memories found alike, most alike first, each with "Merge"
 * (undoable from the notice) and "Keep both". */
export function DuplicatesScreen({ onUnauthorized }: Props) {
  const notice = useNotice();
  const { load, items: pairs, setItems: setPairs, count, setCount, refresh: fetchPairs } = useCountedList(
    fetchPairsPage,
    "Could not load possible duplicates.",
    onUnauthorized,
  );
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState("");
  const [status, setStatus] = useState("");

  const drop = (pair: Pair) => {
    setPairs((current) => current.filter((other) => other.id !== pair.id));
    setCount((current) => Math.max(0, current - 1));
    announceDuplicatesChanged();
  };

  async function decide(pair: Pair, run: () => Promise<unknown>, done: () => void) {
    setBusy(pair.id);
    setError("");
    try {
      await run();
      drop(pair);
      done();
    } catch (caught) {
      if (caught instanceof ApiError && caught.status === 401) {
        onUnauthorized();
        return;
      }
      setError(problemMessage(caught, "That did not work. Please try again."));
      // Decided elsewhere, or a memory of it deleted meanwhile: show the pairs as they are now.
      if (caught instanceof ApiError && caught.status === 409) void fetchPairs();
    } finally {
      setBusy(null);
    }
  }

  function merge(pair: Pair) {
    const kept = headline(pair.memory) || "memory";
    void decide(
      pair,
      () => api.mergePair(pair.id),
      () => {
        notice({ text: `Merged into “${kept}”.`, action: { label: "Undo", run: () => undo(pair) } });
        // The merge changed two memories on the server: the device's copy learns it by the feed.
        void syncSoon().catch(() => undefined);
      },
    );
  }

  function keepBoth(pair: Pair) {
    const kept = headline(pair.memory) || "memory";
    void decide(
      pair,
      () => api.dismissPair(pair.id),
      () => setStatus(`Kept both: “${kept}” and its look-alike.`),
    );
  }

  // The notice outlives this screen: the list may be the one showing when Undo is pressed.
  function undo(pair: Pair) {
    notice({ text: "Undoing the merge…" });
    api
      .undoMerge(pair.id)
      .then((reopened) => {
        setPairs((current) => insertBySimilarity(current, reopened));
        setCount((current) => current + 1);
        announceRestored(reopened.memory); // its own tags again
        announceRestored(reopened.similar);
        announceDuplicatesChanged();
        notice({ text: "Merge undone: both memories are back." });
      })
      .catch((caught: unknown) => notice({ text: problemMessage(caught, "Could not undo the merge.") }));
  }

  return (
    <section className="card duplicates" aria-labelledby="duplicates-heading" aria-busy={load.state === "loading"}>
      <h1 id="duplicates-heading">Possible duplicates</h1>
      <p className="muted">
        {load.state === "ready" && count > pairs.length
          ? `The ${pairs.length} most alike of ${count} pairs. `
          : "Memories that say nearly the same thing, most alike first. "}
        Merge keeps the older one, with the tags and reminders of both.
      </p>
      <ListMessages load={load} error={error} status={status} />
      {load.state === "ready" && pairs.length === 0 && (
        <p className="muted">No possible duplicates left. Memories you save that say nearly the same thing appear here.</p>
      )}
      <ul className="pair-list" aria-label="Possible duplicates">
        {pairs.map((pair) => (
          <PairItem
            key={pair.id}
            pair={pair}
            busy={busy === pair.id}
            onMerge={() => merge(pair)}
            onKeepBoth={() => keepBoth(pair)}
          />
        ))}
      </ul>
    </section>
  );
}
