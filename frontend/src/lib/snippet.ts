// A search snippet arrives HTML-escaped with <mark> around the matched words. It is never
// given to the DOM as HTML: it is split into plain-text pieces here, and the screen renders
// each piece as text (matched pieces inside a <mark> element it creates itself).

export interface SnippetPart {
  text: string;
  match: boolean;
}

const ENTITY = /&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);/gi;
const NAMED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** Undoes HTML escaping (the five named entities and numeric references) in one pass. */
export function unescapeHtml(text: string): string {
  return text.replace(ENTITY, (whole, name: string) => {
    const lower = name.toLowerCase();
    if (lower in NAMED) return NAMED[lower]!;
    const code = lower.startsWith("#x") ? parseInt(lower.slice(2), 16) : parseInt(lower.slice(1), 10);
    if (!Number.isFinite(code) || code < 0 || code > 0x10ffff) return whole;
    try {
      return String.fromCodePoint(code);
    } catch {
      return whole;
    }
  });
}

/** The snippet as text pieces, `match` for the words the server marked. */
export function snippetParts(snippet: string): SnippetPart[] {
  const parts: SnippetPart[] = [];
  const pattern = /<mark>([\s\S]*?)<\/mark>/g;
  let last = 0;
  for (let found = pattern.exec(snippet); found; found = pattern.exec(snippet)) {
    if (found.index > last) parts.push({ text: unescapeHtml(snippet.slice(last, found.index)), match: false });
    if (found[1]) parts.push({ text: unescapeHtml(found[1]), match: true });
    last = found.index + found[0].length;
  }
  if (last < snippet.length) parts.push({ text: unescapeHtml(snippet.slice(last)), match: false });
  return parts;
}
