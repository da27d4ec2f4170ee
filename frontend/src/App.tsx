import { Suspense, lazy, useCallback, useEffect, useState } from "react";
import { Navigate, Route, Routes } from "react-router";
import { ApiError, api, type User } from "./api/client";
import { AppShell } from "./components/AppShell";
import { ComingSoon } from "./screens/ComingSoon";
import { MemoriesScreen } from "./screens/MemoriesScreen";
import { NotFound } from "./screens/NotFound";
import { SignIn } from "./screens/SignIn";

// The first screen (the list, or sign in) is in the main bundle; the others load when opened.
const MemoryScreen = lazy(() => import("./screens/MemoryScreen").then((m) => ({ default: m.MemoryScreen })));
const SearchScreen = lazy(() => import("./screens/SearchScreen").then((m) => ({ default: m.SearchScreen })));
const SettingsScreen = lazy(() => import("./screens/SettingsScreen").then((m) => ({ default: m.SettingsScreen })));

function ScreenLoading() {
  return (
    <p className="muted" aria-busy="true">
      Loading…
    </p>
  );
}

type Session =
  | { state: "checking" }
  | { state: "signed-out" }
  | { state: "error"; message: string }
  | { state: "signed-in"; user: User };

export function App() {
  const [session, setSession] = useState<Session>({ state: "checking" });
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
    <AppShell user={session.user} onSignOut={signOut} signingOut={signingOut}>
      <Suspense fallback={<ScreenLoading />}>
        <Routes>
          <Route path="/" element={<MemoriesScreen onUnauthorized={signedOut} />} />
          <Route path="/memories" element={<Navigate to="/" replace />} />
          <Route path="/memories/:id" element={<MemoryScreen onUnauthorized={signedOut} />} />
          <Route path="/search" element={<SearchScreen onUnauthorized={signedOut} />} />
          <Route
            path="/inbox"
            element={
              <ComingSoon title="Inbox">
                The inbox will list reminders that are due, with Done, Snooze and Dismiss.
              </ComingSoon>
            }
          />
          <Route path="/settings" element={<SettingsScreen onUnauthorized={signedOut} />} />
          <Route path="*" element={<NotFound />} />
        </Routes>
      </Suspense>
    </AppShell>
  );
}
