// What another app shared (the Web Share Target's title, text and url, or the bookmarklet's
// query) as a memory to queue. Why the URL is looked for in every field: Android puts a shared
// page's address in `text` (Chrome) or even `title` (some apps) and leaves `url` empty, and a
// text with a link in it ("look at this https://…") is a link with a comment. Pure, so the
// service worker, the app's /share route and the tests all use the same rules.
import type { QueuedCreate } from "../api/client";

/** The fields as they arrive: form fields or query parameters, any of them missing. */
export interface SharedFields {
  title?: string | null;
  text?: string | null;
  url?: string | null;
}

const URL_PATTERN = /https?:\/\/[^\s<>"'`]+/gi;
/** Punctuation that ends a sentence rather than the address ("see https://x.org/a."). */
const TRAILING = /[.,;:!?'"»”’]+$/;

/** The first http(s) address in `value`, trimmed of the sentence around it, or null. */
export function findUrl(value: string): string | null {
  for (const match of value.matchAll(URL_PATTERN)) {
    let candidate = match[0].replace(TRAILING, "");
    // A closing bracket belongs to the address only when it opened one: "(see https://x.org)".
    while (/[)\]]$/.test(candidate) && count(candidate, "(") < count(candidate, ")")) {
      candidate = candidate.slice(0, -1).replace(TRAILING, "");
    }
    try {
      const parsed = new URL(candidate);
      if (parsed.protocol === "http:" || parsed.protocol === "https:") return candidate;
    } catch {
      // Not an address after all: look further.
    }
  }
  return null;
}

function count(value: string, char: string): number {
  return value.split(char).length - 1;
}

/** `value` without `url` and the blank lines and spaces it leaves. */
function without(value: string, url: string | null): string {
  const rest = url ? value.split(url).join(" ") : value;
  return rest
    .split("\n")
    .map((line) =>
      line
        .replace(/[ \t]+/g, " ")
        .replace(/ ([.,;:!?])(?= |$)/g, "$1")
        .replace(/^[.,;:!?]+$/, "")
        .trim(),
    )
    .filter((line, index, lines) => line !== "" || (index > 0 && lines[index - 1] !== ""))
    .join("\n")
    .trim();
}

/** The memory to queue for what was shared, or null when nothing was. An address found in
 * `url`, `text` or `title` (in that order) becomes the memory's link and kind "link"; the text
 * without it is the content, the title without it the title; a link alone is its own content
 * (a memory needs some), with the page's title as the content when that is all there is. */
export function memoryFromShare(fields: SharedFields): QueuedCreate | null {
  const rawTitle = (fields.title ?? "").trim();
  const rawText = (fields.text ?? "").trim();
  const rawUrl = (fields.url ?? "").trim();
  const url = findUrl(rawUrl) ?? findUrl(rawText) ?? findUrl(rawTitle);
  const text = without(rawText, url);
  const title = without(rawTitle, url).replace(/\s*\n\s*/g, " ");
  if (!url && !text && !title) return null;
  const memory: QueuedCreate = { content: text || title || (url as string), kind: url ? "link" : "note" };
  if (title && title !== memory.content) memory.title = title;
  if (url) memory.url = url;
  return memory;
}

/** The fields of a share from a URL's query (the bookmarklet's GET /share?url=…&title=…). */
export function sharedFieldsFromQuery(search: URLSearchParams): SharedFields {
  return { title: search.get("title"), text: search.get("text"), url: search.get("url") };
}

/** The fields of a share from the POSTed form (files, if any were sent, are ignored). */
export function sharedFieldsFromForm(form: FormData): SharedFields {
  const field = (name: string) => {
    const value = form.get(name);
    return typeof value === "string" ? value : null;
  };
  return { title: field("title"), text: field("text"), url: field("url") };
}

/** Where the app opens after a share: the list, on the memory just queued. */
export function sharedLocation(memoryId: string | null): string {
  return memoryId ? `/?shared=${encodeURIComponent(memoryId)}` : "/";
}
