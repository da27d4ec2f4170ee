import type { ReactNode } from "react";
import { NavLink } from "react-router";
import { Bell, BookOpen, Copy, LogOut, Search, Settings } from "lucide-react";
import type { User } from "../api/client";
import { ConnectionStatus } from "./ConnectionStatus";
import { NoticeProvider } from "./Notice";
import { StorageBanner } from "./StorageBanner";
import { SyncStatus } from "./SyncStatus";

interface Props {
  user: User;
  onSignOut: () => void;
  signingOut?: boolean;
  /** Due reminders: the Inbox link reads "Inbox 3". */
  inboxCount?: number;
  /** Open near-duplicate pairs: the "Possible duplicates" link shows only when there are any. */
  duplicatesCount?: number;
  children: ReactNode;
}

// The screens of PWA.md's navigation; a later feature adds its entry here.
const NAV = [
  { to: "/", label: "Memories", Icon: BookOpen },
  { to: "/search", label: "Search", Icon: Search },
  { to: "/inbox", label: "Inbox", Icon: Bell },
  { to: "/duplicates", label: "Possible duplicates", Icon: Copy },
  { to: "/settings", label: "Settings", Icon: Settings },
] as const;

const navClass = ({ isActive }: { isActive: boolean }) => (isActive ? "nav-link active" : "nav-link");

export function AppShell({
  user,
  onSignOut,
  signingOut = false,
  inboxCount = 0,
  duplicatesCount = 0,
  children,
}: Props) {
  const shown = NAV.filter(({ to }) => to !== "/duplicates" || duplicatesCount > 0);
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="brand">Memory Connector</div>
        <ConnectionStatus />
        <SyncStatus />
        <div className="account">
          <span className="account-email">{user.email}</span>
          <button type="button" className="button quiet" onClick={onSignOut} disabled={signingOut}>
            <LogOut aria-hidden="true" size={16} />
            <span>Sign out</span>
          </button>
        </div>
      </header>
      <nav className="nav" aria-label="Main">
        {shown.map(({ to, label, Icon }) => (
          <NavLink key={to} to={to} end={to === "/"} className={navClass}>
            <Icon aria-hidden="true" size={18} />
            <span>{label}</span>
            {to === "/inbox" && inboxCount > 0 && (
              <span className="badge count">
                {" "}
                {inboxCount}
              </span>
            )}
          </NavLink>
        ))}
      </nav>
      <StorageBanner />
      <NoticeProvider>
        <main id="main" className="main" tabIndex={-1}>
          {children}
        </main>
      </NoticeProvider>
    </div>
  );
}
