/** Turns the "Tags" field ("work, ideas , work") into a clean list: trimmed, no blanks, no repeats. */
export function parseTags(input: string): string[] {
  const seen = new Set<string>();
  const tags: string[] = [];
  for (const raw of input.split(",")) {
    const tag = raw.trim().replace(/\s+/g, " ");
    const key = tag.toLowerCase();
    if (tag && !seen.has(key)) {
      seen.add(key);
      tags.push(tag);
    }
  }
  return tags;
}

/** What a list shows for a memory: its title, else the first non-empty line of its text. */
export function headline(memory: { title?: string; content?: string }): string {
  const title = memory.title?.trim();
  if (title) return title;
  const line = (memory.content ?? "").split("\n").find((l) => l.trim() !== "");
  return line?.trim() ?? "";
}
