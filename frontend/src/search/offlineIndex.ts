// Keyword search over the device's copy of memories (PWA.md: "Offline results"), with
// MiniSearch: title, content, tags and link; prefix matching (the word being typed) and fuzzy
// matching (a typo) from four letters; a title or tag match weighs more than one in the text.
// Why an index kept up to date row by row (`apply`) rather than built per query: building it
// for 5,000 memories takes hundreds of milliseconds, a query a few. `apply` is given the whole
// copy each time and changes only the rows that differ, so the caller need not know what changed.
// No DOM and no IndexedDB here: the search worker runs it, and the tests run it directly.
import MiniSearch, { type SearchResult as MiniResult } from "minisearch";
import type { OfflineMemory } from "../offline/copy";

export const FIELDS = ["title", "content", "tags", "url"] as const;
export const BOOST = { title: 2, tags: 2 } as const;
/** Terms shorter than this are matched exactly or as a prefix, never fuzzily (a typo in a
 * three-letter word is another word, and fuzzy short terms match half the index). */
export const FUZZY_FROM = 4;
export const FUZZY = 0.2;
export const SNIPPET_CHARS = 200;

export interface OfflineHit {
  memory: OfflineMemory;
  score: number;
  /** Like the server's: HTML-escaped text with <mark> around the matched words. */
  snippet: string;
}

export interface OfflineAnswer {
  hits: OfflineHit[];
  /** Memories that match, of which `hits` are the first `limit`. */
  total: number;
}

export interface ApplyResult {
  added: number;
  updated: number;
  removed: number;
}

/** Lower case without accents, so "Café" is found by "cafe". */
export function normalizeTerm(term: string): string {
  return term.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
}

// A word is a run of letters and digits (so "<chips>" and "chips," are both "chips"); the index
// and the snippet use the same rule.
const WORD = /[\p{L}\p{M}\p{N}]+/gu;

function tokenize(text: string): string[] {
  return text.match(WORD) ?? [];
}

function fieldOf(memory: OfflineMemory, field: string): string {
  if (field === "tags") return memory.tags.join(" ");
  const value = (memory as unknown as Record<string, unknown>)[field];
  return typeof value === "string" ? value : "";
}

function sameText(a: OfflineMemory, b: OfflineMemory): boolean {
  return (
    a.title === b.title &&
    a.content === b.content &&
    a.url === b.url &&
    a.tags.length === b.tags.length &&
    a.tags.every((tag, i) => tag === b.tags[i])
  );
}

function newMiniSearch(): MiniSearch<OfflineMemory> {
  return new MiniSearch<OfflineMemory>({
    idField: "id",
    fields: [...FIELDS],
    extractField: fieldOf,
    tokenize,
    processTerm: (term) => normalizeTerm(term) || null,
    searchOptions: {
      boost: { ...BOOST },
      prefix: true,
      fuzzy: (term) => (term.length >= FUZZY_FROM ? FUZZY : false),
      maxFuzzy: 2,
      combineWith: "AND",
    },
  });
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char]!);
}

/** A window of `text` around its first matched word, escaped, the matched words in <mark>. */
export function makeSnippet(text: string, terms: ReadonlySet<string>, size = SNIPPET_CHARS): string {
  if (!text) return "";
  const words: { start: number; end: number; match: boolean }[] = [];
  for (const found of text.matchAll(WORD)) {
    const start = found.index;
    words.push({ start, end: start + found[0].length, match: terms.has(normalizeTerm(found[0])) });
  }
  const first = words.find((word) => word.match);
  let from = 0;
  if (first && first.start > size / 3) {
    // Start at a word boundary a little before the first match.
    const before = words.filter((word) => word.start <= first.start && word.start >= first.start - size / 3);
    from = before[0]?.start ?? first.start;
  }
  let to = Math.min(text.length, from + size);
  if (to < text.length) {
    const cut = words.filter((word) => word.end <= to).pop();
    if (cut && cut.end > from) to = cut.end;
  }
  let out = from > 0 ? "…" : "";
  let at = from;
  for (const word of words) {
    if (word.end <= from || word.start >= to) continue;
    if (!word.match) continue;
    out += escapeHtml(text.slice(at, word.start)) + "<mark>" + escapeHtml(text.slice(word.start, word.end)) + "</mark>";
    at = word.end;
  }
  out += escapeHtml(text.slice(at, to));
  return to < text.length ? out + "…" : out;
}

/** The device's search index: `apply` the copy, then `search`. */
export class OfflineIndex {
  private index = newMiniSearch();
  private rows = new Map<string, OfflineMemory>();

  /** Memories in the index. */
  get size(): number {
    return this.rows.size;
  }

  /** Makes the index hold exactly `copy`: adds new rows, re-indexes rows whose text changed,
   * removes rows no longer there; a row whose text is the same is only replaced for display
   * (its pending state, its version). */
  apply(copy: readonly OfflineMemory[]): ApplyResult {
    const result: ApplyResult = { added: 0, updated: 0, removed: 0 };
    const seen = new Set<string>();
    const added: OfflineMemory[] = [];
    for (const memory of copy) {
      if (seen.has(memory.id)) continue;
      seen.add(memory.id);
      const before = this.rows.get(memory.id);
      if (!before) {
        added.push(memory);
        result.added++;
      } else if (!sameText(before, memory)) {
        this.index.discard(memory.id);
        this.index.add(memory);
        result.updated++;
      }
      this.rows.set(memory.id, memory);
    }
    if (added.length) this.index.addAll(added);
    for (const id of [...this.rows.keys()]) {
      if (!seen.has(id)) {
        this.index.discard(id);
        this.rows.delete(id);
        result.removed++;
      }
    }
    return result;
  }

  /** The best `limit` memories for `query`, every word required (prefix and fuzzy); when no
   * memory has them all, those with any of them. Equal scores: the newer memory first. */
  search(query: string, limit = 20): OfflineAnswer {
    if (!query.trim()) return { hits: [], total: 0 };
    let found = this.index.search(query);
    if (found.length === 0 && tokenize(query).length > 1) found = this.index.search(query, { combineWith: "OR" });
    const hits: OfflineHit[] = [];
    for (const result of this.top(found, limit)) {
      const memory = this.rows.get(result.id as string);
      if (memory) hits.push({ memory, score: result.score, snippet: this.snippet(memory, result) });
    }
    return { hits, total: found.length };
  }

  /** The first `limit` of `found` (which MiniSearch sorts by score), equal scores newest first.
   * Only the results that can make the cut are sorted again: "the" matches nearly everything. */
  private top(found: MiniResult[], limit: number): MiniResult[] {
    if (limit <= 0 || found.length === 0) return [];
    const cutoff = found[Math.min(limit, found.length) - 1]!.score;
    let end = 0;
    while (end < found.length && found[end]!.score >= cutoff) end++;
    return found
      .slice(0, end)
      .sort((a, b) => b.score - a.score || this.newer(a, b))
      .slice(0, limit);
  }

  /** Runs a few queries over the index so the first query the user types does not pay for the
   * JavaScript engine compiling the search code (tens of milliseconds on a phone). */
  warmUp(): void {
    const sample = [...this.rows.values()].slice(0, 2);
    for (const memory of sample) {
      const words = tokenize(memory.content);
      for (const word of words.slice(0, 2)) {
        this.search(word.slice(0, 3), 20);
        this.search(word, 20);
        this.search(`${word}x`, 20);
      }
    }
  }

  private newer(a: MiniResult, b: MiniResult): number {
    const x = this.rows.get(a.id as string)?.created_at ?? "";
    const y = this.rows.get(b.id as string)?.created_at ?? "";
    return x < y ? 1 : x > y ? -1 : 0;
  }

  private snippet(memory: OfflineMemory, result: MiniResult): string {
    const terms = new Set(result.terms);
    return makeSnippet(memory.content || memory.url, terms);
  }
}
