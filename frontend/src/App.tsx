import { Suspense, lazy, useCallback, useEffect, useMemo, useState } from "react";
import { Navigate, Route, Routes } from "react-router";
import { ApiError, api, type User } from "./api/client";
import { AppShell } from "./components/AppShell";
import { MemoriesScreen } from "./screens/MemoriesScreen";
import { NotFound } from "./screens/NotFound";
import { SignIn } from "./screens/SignIn";
import { SessionContext, timeZoneToDefault } from "./lib/session";
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
const SettingsScreen = lazy(() => import("./screens/SettingsScreen").then((m) => ({ default: m.SettingsScreen })));

function ScreenLoading() {
  return (
    <p className="muted" aria-busy="true">
      Loading…
    </p>
  );
}

type AuthState =
  | { state: "checking" }
  | { state: "signed-out" }
  | { state: "error"; message: string }
  | { state: "signed-in"; user: User };

export function App() {
  const [session, setSession] = useState<AuthState>({ state: "checking" });
  const [signingOut, setSigningOut] = useState(false);

  const check = useCallback((signal?: AbortSignal) => {
    api
      .me(signal)
      .then((user) => setSession({ state: "signed-in", user }))
      .catch((caught: unknown) => {
        if (signal?.aborted) return;
        if (caught instanceof ApiError && (caught.status === 401 || caught.status === 403)) {
          setSession({ state: "signed-out" });
        } else {
          setSession({
            state: "error",
            message: caught instanceof ApiError ? caught.detail : "Could not reach the server.",
          });
        }
      });
  }, []);

  useEffect(() => {
    const controller = new AbortController();
    check(controller.signal);
    return () => controller.abort();
  }, [check]);

  const signedOut = useCallback(() => setSession({ state: "signed-out" }), []);
  const setUser = useCallback((user: User) => setSession({ state: "signed-in", user }), []);

  async function signOut() {
    setSigningOut(true);
    try {
      await api.logout();
    } catch {
      // Signed out on this device either way; the session may already have ended.
    } finally {
      setSigningOut(false);
      setSession({ state: "signed-out" });
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
    return <SignIn onSignedIn={(user) => setSession({ state: "signed-in", user })} />;
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

/** The app of a signed-in account: its session for the screens, the inbox and duplicates
 * counts for the navigation, and the browser's time zone given to a new account. */
function SignedIn({ user, setUser, onSignOut, signingOut, onUnauthorized: signedOut }: SignedInProps) {
  const inboxCount = useInboxCount(signedOut);
  const duplicatesCount = useDuplicatesCount(signedOut);
  const session = useMemo(() => ({ user, setUser }), [user, setUser]);

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
            <Route path="*" element={<NotFound />} />
          </Routes>
        </Suspense>
      </AppShell>
    </SessionContext.Provider>
  );
}
