import { KINDS, type Kind } from "../api/client";

/** What the memory form's fields hold: tags as the user types them ("work, ideas"). */
export interface MemoryFieldValues {
  content: string;
  title: string;
  url: string;
  tags: string;
  kind: Kind;
}

interface Props {
  /** Makes the fields' ids unique on the page ("capture", "edit"). */
  idPrefix: string;
  fields: MemoryFieldValues;
  onChange: (changes: Partial<MemoryFieldValues>) => void;
}

/** The fields of a memory, as capture and edit show them (PWA.md's names: "Memory", "Title",
 * "Link", "Tags", "Kind"). */
export function MemoryFields({ idPrefix, fields, onChange }: Props) {
  const id = (name: string) => `${idPrefix}-${name}`;
  return (
    <>
      <div className="field">
        <label htmlFor={id("content")}>Memory</label>
        <textarea
          id={id("content")}
          rows={4}
          required
          value={fields.content}
          onChange={(e) => onChange({ content: e.target.value })}
        />
      </div>
      <div className="field-row">
        <div className="field">
          <label htmlFor={id("title")}>Title</label>
          <input id={id("title")} type="text" value={fields.title} onChange={(e) => onChange({ title: e.target.value })} />
        </div>
        <div className="field">
          <label htmlFor={id("url")}>Link</label>
          <input
            id={id("url")}
            type="url"
            inputMode="url"
            placeholder="https://"
            value={fields.url}
            onChange={(e) => onChange({ url: e.target.value })}
          />
        </div>
      </div>
      <div className="field-row">
        <div className="field">
          <label htmlFor={id("tags")}>Tags</label>
          <input
            id={id("tags")}
            type="text"
            aria-describedby={id("tags-hint")}
            value={fields.tags}
            onChange={(e) => onChange({ tags: e.target.value })}
          />
          <p id={id("tags-hint")} className="hint">
            Separate tags with commas.
          </p>
        </div>
        <div className="field">
          <label htmlFor={id("kind")}>Kind</label>
          <select id={id("kind")} value={fields.kind} onChange={(e) => onChange({ kind: e.target.value as Kind })}>
            {KINDS.map((kind) => (
              <option key={kind} value={kind}>
                {kind[0]?.toUpperCase() + kind.slice(1)}
              </option>
            ))}
          </select>
        </div>
      </div>
    </>
  );
}
