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

const SIGNED_IN = "mc:signed-in-user";

/** Remembers the signed-in account on this device, so the app opens offline (a reload with no
 * network cannot ask /me; the server still decides on every request). */
export function rememberUser(user: User, storage: Storage = localStorage): void {
  try {
    storage.setItem(SIGNED_IN, JSON.stringify(user));
  } catch {
    // A full storage: the app then needs the network to open, as before.
  }
}

/** The account last signed in on this device, or null. */
export function rememberedUser(storage: Storage = localStorage): User | null {
  try {
    const value = JSON.parse(storage.getItem(SIGNED_IN) ?? "null") as unknown;
    return value && typeof value === "object" && "id" in value && "email" in value ? (value as User) : null;
  } catch {
    return null;
  }
}

/** Forgets the account remembered on this device; with `onlyId`, only if it is that one (a tab
 * signed out because another tab signed in as someone else leaves that one remembered). */
export function forgetUser(onlyId: number | null = null, storage: Storage = localStorage): void {
  if (onlyId !== null && rememberedUser(storage)?.id !== onlyId) return;
  storage.removeItem(SIGNED_IN);
}

const SIGN_OUT_OWED = "mc:sign-out-owed";

/** Signing out without a network cannot end the server's session: remembered here, with the
 * account it is owed for, so the app ends that account's session before anything else when it
 * next starts, and the next person to open the app on this browser is not signed in as the one
 * who left. */
export function oweSignOut(accountId: number, storage: Storage = localStorage): void {
  try {
    storage.setItem(SIGN_OUT_OWED, String(accountId));
  } catch {
    // A full storage: the server's session then ends when it expires or someone signs in.
  }
}

/** The account whose sign-out is owed, or null. */
export function signOutOwed(storage: Storage = localStorage): string | null {
  return storage.getItem(SIGN_OUT_OWED);
}

export function signOutPaid(storage: Storage = localStorage): void {
  storage.removeItem(SIGN_OUT_OWED);
}
