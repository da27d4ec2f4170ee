// Three-way merge of an edit (DESIGN §7, PWA.md "Conflicts"): the version the user started
// from (base), the user's edit (mine) and the server's copy after a 412 (theirs).
import { diffLines } from "diff";
import type { Memory, MemoryChanges } from "../api/client";

export const EDITABLE_FIELDS = ["content", "title", "url", "tags", "kind"] as const;
export type EditableField = (typeof EDITABLE_FIELDS)[number];
export type Editable = Pick<Memory, EditableField>;

export const FIELD_LABELS: Record<EditableField, string> = {
  content: "Memory",
  title: "Title",
  url: "Link",
  tags: "Tags",
  kind: "Kind",
};

export function editableOf(memory: Memory): Editable {
  return {
    content: memory.content,
    title: memory.title ?? "",
    url: memory.url ?? "",
    tags: [...memory.tags],
    kind: memory.kind,
  };
}

function tagKey(tags: readonly string[]): string {
  // The server lower-cases tags and keeps each once; their order carries no meaning.
  const cleaned = new Set(tags.map((tag) => tag.trim().replace(/\s+/g, " ").toLowerCase()).filter(Boolean));
  return [...cleaned].sort().join("\n");
}

/** Whether two values of a field mean the same once the server has cleaned them (trimmed text,
 * tags without case or order). */
export function sameValue<F extends EditableField>(field: F, a: Editable[F], b: Editable[F]): boolean {
  if (field === "tags") return tagKey(a as string[]) === tagKey(b as string[]);
  return String(a).trim() === String(b).trim();
}

/** The fields of `edited` that differ from `from`. */
export function changedFields(from: Editable, edited: Editable): EditableField[] {
  return EDITABLE_FIELDS.filter((field) => !sameValue(field, from[field], edited[field]));
}

/** A PATCH body with `source`'s value of each of `fields`. */
export function changesOf(source: Editable, fields: readonly EditableField[]): MemoryChanges {
  const changes: MemoryChanges = {};
  for (const field of fields) {
    if (field === "tags") changes.tags = [...source.tags];
    else if (field === "kind") changes.kind = source.kind;
    else changes[field] = source[field].trim();
  }
  return changes;
}

export interface MergeResult {
  /** Each field: the user's value where only the user changed it, else the server's. */
  merged: Editable;
  /** What to send on top of the server's copy for `merged` (empty: theirs already is it). */
  changes: MemoryChanges;
  /** Fields both sides changed, to different values: the user must choose. */
  conflicts: EditableField[];
}

/** Merges the user's edit with the server's copy against the version the edit started from. */
export function threeWayMerge(base: Editable, mine: Editable, theirs: Editable): MergeResult {
  const merged: Editable = { ...theirs, tags: [...theirs.tags] };
  const conflicts: EditableField[] = [];
  const mineChanged = changedFields(base, mine);
  for (const field of mineChanged) {
    const theirsChanged = !sameValue(field, base[field], theirs[field]);
    if (theirsChanged && !sameValue(field, mine[field], theirs[field])) conflicts.push(field);
    // A conflicted field takes the user's value here too: "Keep mine" sends exactly this.
    (merged as Record<EditableField, unknown>)[field] = mine[field];
  }
  return { merged, changes: changesOf(merged, changedFields(theirs, merged)), conflicts };
}

/** A starting point for the merge editor: every line of both texts, in order, each once
 * where they agree. */
export function mergedTextDraft(theirs: string, mine: string): string {
  return diffLines(theirs, mine)
    .map((part) => (part.value.endsWith("\n") ? part.value : `${part.value}\n`))
    .join("")
    .replace(/\n$/, "");
}
