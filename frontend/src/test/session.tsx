import type { ReactNode } from "react";
import type { User } from "../api/client";
import { SessionContext } from "../lib/session";
import { account } from "./helpers";

/** Renders `children` as the app does for a signed-in account. */
export function WithSession({ user = account(), children }: { user?: User; children: ReactNode }) {
  return <SessionContext.Provider value={{ user, setUser: () => undefined }}>{children}</SessionContext.Provider>;
}
