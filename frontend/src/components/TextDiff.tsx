import { diffWords } from "diff";

interface Props {
  before: string;
  after: string;
  /** Which text to show: `before` with what `after` dropped struck through, or `after` with
   * what it added underlined. Two of these side by side compare the texts. */
  show: "before" | "after";
}

/** One side of a word-by-word comparison of two texts (the conflict dialog, possible
 * duplicates). */
export function TextDiff({ before, after, show }: Props) {
  const parts = diffWords(before, after);
  return (
    <p className="diff-text">
      {parts.map((part, index) => {
        if (show === "before" && part.added) return null;
        if (show === "after" && part.removed) return null;
        if (part.added) return <ins key={index}>{part.value}</ins>;
        if (part.removed) return <del key={index}>{part.value}</del>;
        return <span key={index}>{part.value}</span>;
      })}
    </p>
  );
}
