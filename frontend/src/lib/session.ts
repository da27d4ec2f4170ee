import { createContext, useContext } from "react";
import type { User } from "../api/client";

export interface Session {
  user: User;
  /** After the account changed (its time zone). */
  setUser: (user: User) => void;
}

export const SessionContext = createContext<Session | null>(null);

/** The signed-in account; only screens inside the signed-in app call this. */
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside the signed-in app");
  return session;
}

const DEFAULTED = "mc:time-zone-defaulted:";

/** The browser's zone to give an account on its first sign-in here, or null: only once per
 * account and device, and only over the server's default (UTC), never over a choice. */
export function timeZoneToDefault(user: User, browserZone: string, storage: Storage = localStorage): string | null {
  const key = `${DEFAULTED}${user.id}`;
  if (storage.getItem(key)) return null;
  storage.setItem(key, "1");
  return user.time_zone === "UTC" && browserZone !== "UTC" ? browserZone : null;
}
