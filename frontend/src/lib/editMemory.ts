// Saving an edit: PATCH with If-Match the version the edit started from; on a 412 merge with
// the server's copy by itself when no field was changed on both sides (PWA.md "Conflicts").
import { api, conflictCopy, type Memory } from "../api/client";
import { changedFields, changesOf, editableOf, threeWayMerge, type Editable, type EditableField } from "./merge";

export type EditOutcome =
  | { kind: "saved"; memory: Memory }
  /** Both sides changed `fields`: the user decides, with `base` and `mine` to merge against `theirs`. */
  | { kind: "conflict"; base: Editable; mine: Editable; theirs: Memory; fields: EditableField[] };

// Each silent merge is tried again at most this often, then the user is asked: a memory edited
// without pause elsewhere must not keep this one spinning.
const SILENT_MERGES = 3;

/** Saves `mine`, an edit of `base` (the memory as it was when editing began). */
export async function saveEdit(base: Memory, mine: Editable): Promise<EditOutcome> {
  let from = editableOf(base);
  let version = base.version;
  let edited = mine;
  for (let attempt = 0; ; attempt++) {
    const fields = changedFields(from, edited);
    if (fields.length === 0) return { kind: "saved", memory: base };
    try {
      return { kind: "saved", memory: await api.updateMemory(base.id, changesOf(edited, fields), version) };
    } catch (error) {
      const theirs = conflictCopy(error);
      if (!theirs) throw error;
      const result = threeWayMerge(from, edited, editableOf(theirs));
      if (result.conflicts.length > 0 || attempt + 1 >= SILENT_MERGES) {
        return { kind: "conflict", base: from, mine: edited, theirs, fields: result.conflicts };
      }
      if (Object.keys(result.changes).length === 0) return { kind: "saved", memory: theirs };
      // Send the merge on top of the server's copy, as an edit of that version.
      base = theirs;
      from = editableOf(theirs);
      version = theirs.version;
      edited = result.merged;
    }
  }
}

/** Saves the user's choice in the conflict dialog (`chosen`: every field as it should end up)
 * on top of the server's copy; another 412 comes back as a new conflict. */
export async function saveResolution(theirs: Memory, chosen: Editable): Promise<EditOutcome> {
  return saveEdit(theirs, chosen);
}
