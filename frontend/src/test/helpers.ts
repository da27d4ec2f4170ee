import { vi } from "vitest";
import type { Memory, User } from "../api/client";

export interface Call {
  url: string;
  init: RequestInit;
  headers: Headers;
  body: unknown;
}

/** Replaces fetch with a stub that answers from `responder` and records each call. */
export function stubFetch(responder: (url: string, init: RequestInit) => Response | Promise<Response>) {
  const calls: Call[] = [];
  const fn = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    calls.push({
      url,
      init,
      headers: new Headers(init.headers),
      body: typeof init.body === "string" ? JSON.parse(init.body) : undefined,
    });
    return responder(url, init);
  });
  vi.stubGlobal("fetch", fn);
  return calls;
}

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

export function problem(status: number, code: string, detail: string, errors?: Record<string, unknown>): Response {
  return new Response(
    JSON.stringify({ type: "about:blank", title: "Error", status, code, detail, ...(errors ? { errors } : {}) }),
    { status, headers: { "Content-Type": "application/problem+json" } },
  );
}

export function clearCookies() {
  for (const part of document.cookie.split(";")) {
    const name = part.split("=")[0]?.trim();
    if (name) document.cookie = `${name}=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/`;
  }
}

/** A memory as the API answers it, with `extra` fields overriding the defaults. */
export function memory(id: string, content: string, extra: Partial<Memory> = {}): Memory {
  return {
    id,
    kind: "note",
    title: "",
    content,
    url: "",
    tags: [],
    category: "",
    summary: "",
    version: 1,
    enrichment_status: "enriched",
    duplicate_of: null,
    created_at: "2026-11-30T06:00:00Z",
    updated_at: "2026-11-30T06:00:00Z",
    ...extra,
  };
}

/** A 412 version_conflict carrying the server's copy, as PATCH answers a stale If-Match. */
export function versionConflict(current: Memory): Response {
  return new Response(
    JSON.stringify({ type: "about:blank", title: "Version conflict", status: 412, code: "version_conflict", detail: "Stale.", current }),
    { status: 412, headers: { "Content-Type": "application/problem+json" } },
  );
}

/** The signed-in account the screens read from SessionContext. */
export function account(extra: Partial<User> = {}): User {
  return { id: 1, email: "a@example.com", plan: "free", time_zone: "Europe/Berlin", ...extra };
}
