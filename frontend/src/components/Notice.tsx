import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from "react";
import { X } from "lucide-react";

export interface NoticeAction {
  label: string;
  run: () => void;
}

export interface NoticeMessage {
  text: string;
  action?: NoticeAction;
}

type Show = (notice: NoticeMessage | null) => void;

const NoticeContext = createContext<Show>(() => {});

/** Shows a short message (with one action, such as "Undo") in a status region. */
export function useNotice(): Show {
  return useContext(NoticeContext);
}

// Long enough to read and reach by keyboard; it stays while focus is inside.
const VISIBLE_MS = 15_000;

/** Keeps one notice for the whole app, so it outlives the screen that showed it (a delete
 * leaves the detail screen; its "Undo" shows on the list). */
export function NoticeProvider({ children }: { children: ReactNode }) {
  const [notice, setNotice] = useState<NoticeMessage | null>(null);
  const region = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!notice) return;
    const timer = window.setInterval(() => {
      if (!region.current?.contains(document.activeElement)) setNotice(null);
    }, VISIBLE_MS);
    return () => window.clearInterval(timer);
  }, [notice]);

  const show = useCallback<Show>((next) => setNotice(next), []);

  return (
    <NoticeContext.Provider value={show}>
      {children}
      {/* Always in the page: screen readers announce changes only to live regions they know. */}
      <div ref={region} role="status" aria-label="Notice" className={notice ? "notice visible" : "notice"}>
        {notice && (
          <>
            <span className="notice-text">{notice.text}</span>
            {notice.action && (
              <button type="button" className="button quiet" onClick={notice.action.run}>
                {notice.action.label}
              </button>
            )}
            <button type="button" className="icon-button" aria-label="Dismiss notice" onClick={() => setNotice(null)}>
              <X aria-hidden="true" size={16} />
            </button>
          </>
        )}
      </div>
    </NoticeContext.Provider>
  );
}
