import { Suspense, lazy, useCallback, useEffect, useMemo, useState } from "react";
import { Navigate, Route, Routes } from "react-router";
import { ApiError, actFor, api, type User } from "./api/client";
import { AppShell } from "./components/AppShell";
import { MemoriesScreen } from "./screens/MemoriesScreen";
import { NotFound } from "./screens/NotFound";
import { SignIn } from "./screens/SignIn";
import {
  SessionContext,
  forgetUser,
  oweSignOut,
  rememberUser,
  rememberedUser,
  signOutOwed,
  signOutPaid,
  timeZoneToDefault,
} from "./lib/session";
import { claimDevice, forgetCopy } from "./offline/account";
import { flushDraftsOnPageHide } from "./offline/drafts";
import { onRestored } from "./lib/memoryEvents";
import { putInCopy } from "./offline/copy";
import { subscribe } from "./offline/events";
import { startSync, syncSoon } from "./offline/sync";
import { startBackgroundSync } from "./offline/workerApi";
import { useDuplicatesCount } from "./lib/useDuplicatesCount";
import { useInboxCount } from "./lib/useInboxCount";
import { browserTimeZone } from "./lib/zonedTime";

// The first screen (the list, or sign in) is in the main bundle; the others load when opened.
const MemoryScreen = lazy(() => import("./screens/MemoryScreen").then((m) => ({ default: m.MemoryScreen })));
const SearchScreen = lazy(() => import("./screens/SearchScreen").then((m) => ({ default: m.SearchScreen })));
const InboxScreen = lazy(() => import("./screens/InboxScreen").then((m) => ({ default: m.InboxScreen })));
const DuplicatesScreen = lazy(() =>
  import("./screens/DuplicatesScreen").then((m) => ({ default: m.DuplicatesScreen })),
);
const ShareScreen = lazy(() => import("./share/ShareScreen").then((m) => ({ default: m.ShareScreen })));
const SettingsScreen = lazy(() => import("./screens/SettingsScreen").then((m) => ({ default: m.SettingsScreen })));

function ScreenLoading() {
  return (
    <p className="muted" aria-busy="true">
      Loading…
    </p>
  );
}

/** How often the copy is refreshed from the changes feed while the app is online and visible. */
export const PULL_EVERY_MS = 60_000;
/** How soon a claim of the device's stores that failed is tried again. */
const CLAIM_RETRY_MS = 10_000;

type AuthState =
  | { state: "checking" }
  | { state: "signed-out" }
  | { state: "error"; message: string }
  | { state: "signed-in"; user: User };

export function App() {
  const [session, setSession] = useState<AuthState>({ state: "checking" });
  const [signingOut, setSigningOut] = useState(false);
  const userId = session.state === "signed-in" ? session.user.id : null;

  // Every request of the page names the signed-in account (client.ts actFor), set before the
  // signed-in screens render and make their first requests.
  const enter = useCallback((user: User) => {
    actFor(user.id);
    setSession({ state: "signed-in", user });
  }, []);
  const leave = useCallback(() => {
    actFor(null);
    setSession({ state: "signed-out" });
  }, []);

  const check = useCallback(
    (signal?: AbortSignal) => {
      const owed = signOutOwed();
      if (owed !== null) {
        // The last sign-out had no network: that account's session ends now, whoever opens the
        // app next. A 401: it is no longer that account's session (ended, or another signed in).
        // Paid, the app asks /me as always (another account may be signed in); not paid (still
        // no network), it opens on sign in, never as the one who left.
        const paid = () => {
          signOutPaid();
          if (!signal?.aborted) check(signal);
        };
        api.logout(owed).then(paid, (caught: unknown) => {
          if (caught instanceof ApiError && caught.status === 401) paid();
          else if (!signal?.aborted) leave();
        });
        return;
      }
      api
        .me(signal)
        .then((user) => {
          rememberUser(user);
          enter(user);
        })
        .catch((caught: unknown) => {
          if (signal?.aborted) return;
          const known = rememberedUser();
          if (caught instanceof ApiError && (caught.status === 401 || caught.status === 403)) {
            forgetUser();
            leave();
          } else if (known && caught instanceof ApiError && caught.status === 0) {
            // No network: the app opens on the device's copy; the server decides when it is back.
            enter(known);
          } else {
            setSession({
              state: "error",
              message: caught instanceof ApiError ? caught.detail : "Could not reach the server.",
            });
          }
        });
    },
    [enter, leave],
  );

  useEffect(() => {
    const controller = new AbortController();
    check(controller.signal);
    return () => controller.abort();
  }, [check]);

  // The server said this session is not (or no longer) the account's: signed out here. The
  // account remembered on the device goes only if it is this one (another tab may have signed
  // in as someone else).
  const signedOut = useCallback(() => {
    forgetUser(userId);
    leave();
  }, [userId, leave]);
  const setUser = useCallback(
    (user: User) => {
      signOutPaid(); // signing in replaced whatever session the server still had
      rememberUser(user);
      enter(user);
    },
    [enter],
  );

  async function signOut() {
    setSigningOut(true);
    const leaving = userId;
    try {
      await api.logout();
    } catch (caught) {
      // Signed out on this device either way. With no answer (or an error) the server's session
      // may live on: the app ends it when it next starts. A 401: not this account's session
      // any more (another tab signed in), which is not this tab's to end.
      if (!(caught instanceof ApiError && caught.status === 401) && leaving !== null) oweSignOut(leaving);
    } finally {
      forgetUser(leaving);
      await forgetCopy(leaving);
      setSigningOut(false);
      leave();
    }
  }

  if (session.state === "checking") {
    return (
      <main className="auth" id="main" aria-busy="true">
        <p className="muted">Loading…</p>
      </main>
    );
  }
  if (session.state === "error") {
    return (
      <main className="auth" id="main">
        <div className="auth-card">
          <h1>Memory Connector</h1>
          <p role="alert" className="error">
            {session.message}
          </p>
          <button type="button" className="button primary" onClick={() => check()}>
            Try again
          </button>
        </div>
      </main>
    );
  }
  if (session.state === "signed-out") {
    return <SignIn onSignedIn={setUser} />;
  }

  return (
    <SignedIn
      user={session.user}
      setUser={setUser}
      onSignOut={signOut}
      signingOut={signingOut}
      onUnauthorized={signedOut}
    />
  );
}

interface SignedInProps {
  user: User;
  setUser: (user: User) => void;
  onSignOut: () => void;
  signingOut: boolean;
  onUnauthorized: () => void;
}

/** Replays the save queue and keeps the device's copy current while an account is signed in:
 * on start (after the device's stores are made this account's), after each replay, every
 * minute while online and visible; a 401 from the replay signs out. */
function useOfflineSync(userId: number | string, onUnauthorized: () => void) {
  useEffect(() => {
    let stops: (() => void)[] = [];
    let stopped = false;
    let retry: number | undefined;
    // The stores become this account's first. Only then do the page's replay and the service
    // worker's Background Sync start: the worker sends the queue with the CSRF token the page
    // stores here, so it never sends one account's saves with another's session. A claim that
    // failed (a full disk) is tried again; until then nothing is sent.
    const claim = () => {
      claimDevice(userId).then(
        () => {
          if (!stopped) stops = [startSync(), startBackgroundSync()];
        },
        () => {
          if (!stopped) retry = window.setTimeout(claim, CLAIM_RETRY_MS);
        },
      );
    };
    claim();
    const timer = window.setInterval(() => {
      if (navigator.onLine && document.visibilityState === "visible") void syncSoon().catch(() => undefined);
    }, PULL_EVERY_MS);
    const unflush = flushDraftsOnPageHide();
    // A memory restored by an API call (an undone delete or merge) is in the list at once.
    const unrestored = onRestored((memory) => void putInCopy(memory));
    const unsubscribe = subscribe((event, fromAnotherTab) => {
      if (event.type === "signed-out" && !fromAnotherTab) onUnauthorized();
    });
    return () => {
      stopped = true;
      window.clearTimeout(retry);
      for (const stop of stops) stop();
      window.clearInterval(timer);
      unflush();
      unrestored();
      unsubscribe();
    };
  }, [userId, onUnauthorized]);
}

/** The app of a signed-in account: its session for the screens, the inbox and duplicates
 * counts for the navigation, the queue's replay, and the browser's time zone given to a new
 * account. */
function SignedIn({ user, setUser, onSignOut, signingOut, onUnauthorized: signedOut }: SignedInProps) {
  const inboxCount = useInboxCount(signedOut);
  const duplicatesCount = useDuplicatesCount(signedOut);
  const session = useMemo(() => ({ user, setUser }), [user, setUser]);
  useOfflineSync(user.id, signedOut);

  useEffect(() => {
    const zone = timeZoneToDefault(user, browserTimeZone());
    if (zone) api.setTimeZone(zone).then(setUser, () => undefined); // Settings can set it too
  }, [user, setUser]);

  return (
    <SessionContext.Provider value={session}>
      <AppShell
        user={user}
        onSignOut={onSignOut}
        signingOut={signingOut}
        inboxCount={inboxCount}
        duplicatesCount={duplicatesCount}
      >
        <Suspense fallback={<ScreenLoading />}>
          <Routes>
            <Route path="/" element={<MemoriesScreen onUnauthorized={signedOut} />} />
            <Route path="/memories" element={<Navigate to="/" replace />} />
            <Route path="/memories/:id" element={<MemoryScreen onUnauthorized={signedOut} />} />
            <Route path="/search" element={<SearchScreen onUnauthorized={signedOut} />} />
            <Route path="/inbox" element={<InboxScreen onUnauthorized={signedOut} />} />
            <Route path="/duplicates" element={<DuplicatesScreen onUnauthorized={signedOut} />} />
            <Route path="/settings" element={<SettingsScreen onUnauthorized={signedOut} />} />
            <Route path="/share" element={<ShareScreen />} />
            <Route path="*" element={<NotFound />} />
          </Routes>
        </Suspense>
      </AppShell>
    </SessionContext.Provider>
  );
}
