import { useState, type FormEvent } from "react";
import { ApiError, api, type User } from "../api/client";

type Mode = "signin" | "signup";

interface Props {
  onSignedIn: (user: User) => void;
}

/** The message to show for a failed sign in or sign up: the server's own detail when it sent one. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.detail;
  return "Something went wrong. Please try again.";
}

export function SignIn({ onSignedIn }: Props) {
  const [mode, setMode] = useState<Mode>("signin");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError("");
    try {
      const credentials = { email: email.trim(), password };
      const { user } = mode === "signin" ? await api.login(credentials) : await api.signup(credentials);
      onSignedIn(user);
    } catch (caught) {
      setError(errorMessage(caught));
      setBusy(false);
    }
  }

  function switchMode() {
    setMode(mode === "signin" ? "signup" : "signin");
    setError("");
  }

  const heading = mode === "signin" ? "Sign in to your memories" : "Create an account";
  return (
    <main className="auth" id="main">
      <div className="auth-card">
        <p className="brand">Memory Connector</p>
        <h1>{heading}</h1>
        <form className="form" onSubmit={submit} noValidate={false}>
          <div className="field">
            <label htmlFor="auth-email">Email</label>
            <input
              id="auth-email"
              name="email"
              type="email"
              autoComplete="email"
              required
              value={email}
              onChange={(e) => setEmail(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor="auth-password">Password</label>
            <input
              id="auth-password"
              name="password"
              type="password"
              autoComplete={mode === "signin" ? "current-password" : "new-password"}
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </div>
          {error && (
            <p role="alert" className="error">
              {error}
            </p>
          )}
          <button type="submit" className="button primary" disabled={busy}>
            {mode === "signin" ? "Sign in" : "Create account"}
          </button>
        </form>
        <p className="auth-switch">
          {/* In sign-in mode this button is "Create account" (it opens the sign-up form, whose
              submit has the same name); the way back must not contain "Sign in". */}
          {mode === "signin" ? "New here?" : "Already registered?"}{" "}
          <button type="button" className="link-button" onClick={switchMode}>
            {mode === "signin" ? "Create account" : "Use an existing account"}
          </button>
        </p>
      </div>
    </main>
  );
}
