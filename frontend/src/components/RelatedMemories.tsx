import { useEffect, useId, useState } from "react";
import { Link } from "react-router";
import { ApiError, api, type Related } from "../api/client";
import { headline } from "../lib/tags";

interface Props {
  memoryId: string;
  onUnauthorized: () => void;
}

const EXCERPT_CHARS = 140;

/** The start of a memory's text for a one-line preview. */
export function excerptOf(content: string): string {
  const flat = content.replace(/\s+/g, " ").trim();
  return flat.length > EXCERPT_CHARS ? `${flat.slice(0, EXCERPT_CHARS - 1).trimEnd()}…` : flat;
}

/** "Related memories": the memories found alike to this one, most alike first; nothing at all
 * when there are none (or the account does not have the feature). */
export function RelatedMemories({ memoryId, onUnauthorized }: Props) {
  const [related, setRelated] = useState<Related[]>([]);
  const headingId = useId();

  useEffect(() => {
    const controller = new AbortController();
    setRelated([]);
    api
      .relatedMemories(memoryId, controller.signal)
      .then(setRelated)
      .catch((caught: unknown) => {
        if (controller.signal.aborted) return;
        if (caught instanceof ApiError && caught.status === 401) onUnauthorized();
        // Otherwise the section stays away: it is a hint, not the memory itself.
      });
    return () => controller.abort();
  }, [memoryId, onUnauthorized]);

  if (related.length === 0) return null;
  return (
    <section className="related" aria-labelledby={headingId}>
      <h2 id={headingId}>Related memories</h2>
      <ul className="related-list" aria-labelledby={headingId}>
        {related.map(({ memory, near_duplicate: nearDuplicate }) => {
          const title = headline(memory) || "(empty)";
          const excerpt = excerptOf(memory.content);
          return (
            <li key={memory.id}>
              <Link to={`/memories/${memory.id}`}>{title}</Link>
              {nearDuplicate && <span className="badge same-link"> Possible duplicate</span>}
              {excerpt !== title && <p className="excerpt">{excerpt}</p>}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
