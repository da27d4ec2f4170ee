// A small same-origin client for the Memory Connector API (see API.md).
// Types come from src/api/schema.d.ts, generated from the OpenAPI schema by
// `npm run schema`, so a changed API breaks `npm run build` rather than the user.
import type { components, operations } from "./schema";

type Schemas = components["schemas"];
export type User = Schemas["User"];
export type Memory = Schemas["Memory"];
export type MemorySave = Schemas["MemorySave"];
export type MemoryCreate = Schemas["MemoryCreateRequest"];
export type MemoryChanges = Schemas["PatchedMemoryUpdateRequest"];
export type Usage = Schemas["Usage"];
export type ApiToken = Schemas["ApiToken"];
export type ApiTokenCreated = Schemas["ApiTokenCreated"];
export type ApiTokenPage = Schemas["PaginatedApiTokenList"];
export type Reminder = Schemas["Reminder"];
export type Inbox = Schemas["Inbox"];
export type InboxItem = Schemas["InboxItem"];
export type Kind = Schemas["KindEnum"];
export type Credentials = Schemas["CredentialsRequest"];
export type Problem = Schemas["Problem"];
export type MemoryPage = Schemas["PaginatedMemoryList"];
export type LoginResponse = Schemas["LoginResponse"];
export type SignupResponse = Schemas["SignupResponse"];
export type SearchResult = Schemas["SearchResult"];
export type SearchHit = Schemas["SearchHit"];
export type SearchQuery = operations["search"]["parameters"]["query"];
export type Pair = Schemas["Pair"];
export type PairList = Schemas["PairList"];
export type PairMerge = Schemas["Merge"];
export type Related = Schemas["Related"];
/** A create as the save queue sends it: `created_at` is when the user pressed Save.
 * TODO: use Schemas["MemoryCreateRequest"] once the schema has `created_at`. */
export type QueuedCreate = MemoryCreate & { created_at?: string };
/** One page of `GET /api/v1/memories/changes`: memories changed since the cursor (upserts, by
 * id, keeping the higher version) and the ids deleted since; `more`: ask again at once with
 * `cursor`. TODO: use the schema's type once schema.d.ts has the endpoint. */
export interface ChangesPage {
  changes: Memory[];
  deleted: string[];
  cursor: string;
  more: boolean;
}
/** The `mode` of a search (the schema types it as an open string, so the choices are listed here). */
export type SearchMode = "auto" | "semantic" | "keyword" | "hybrid";
export const SEARCH_MODES: readonly SearchMode[] = ["auto", "semantic", "keyword", "hybrid"];

export const KINDS: readonly Kind[] = ["note", "link", "quote", "idea", "task"];

/** An error answer of the API, parsed from application/problem+json when it is one. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly fields: Record<string, unknown>;
  /** Seconds to wait before trying again (Retry-After, or the problem's `retry_after`), when given. */
  readonly retryAfter: number | null;
  /** The whole problem body (e.g. `current` of a 412, `duplicate_of` of a 409). */
  readonly body: Record<string, unknown>;

  constructor(
    status: number,
    code: string,
    detail: string,
    fields: Record<string, unknown> = {},
    retryAfter: number | null = null,
    body: Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.fields = fields;
    this.retryAfter = retryAfter;
    this.body = body;
  }
}

/** The header naming the account a request is made for (docs/api.md). */
export const ACCOUNT_HEADER = "X-Account-Id";
const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** The value of a cookie, or "" when it is not set. */
export function readCookie(name: string, cookies: string = document.cookie): string {
  for (const part of cookies.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      return decodeURIComponent(part.slice(eq + 1).trim());
    }
  }
  return "";
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Seconds from a Retry-After header: delta-seconds, or an HTTP date. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return null;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

/** An error answer as an ApiError (problem+json: code, detail, errors, Retry-After). */
export async function toApiError(response: Response): Promise<ApiError> {
  let retryAfter = parseRetryAfter(response.headers.get("Retry-After"));
  const type = response.headers.get("Content-Type") ?? "";
  let body: unknown = null;
  if (type.includes("json")) {
    try {
      body = await response.json();
    } catch {
      body = null;
    }
  }
  if (isRecord(body)) {
    const code = typeof body.code === "string" ? body.code : `http_${response.status}`;
    const detail =
      typeof body.detail === "string"
        ? body.detail
        : typeof body.title === "string"
          ? body.title
          : response.statusText || "Request failed";
    const fields = isRecord(body.errors) ? body.errors : {};
    if (retryAfter === null && typeof body.retry_after === "number" && Number.isFinite(body.retry_after)) {
      retryAfter = Math.max(0, Math.ceil(body.retry_after));
    }
    return new ApiError(response.status, code, detail, fields, retryAfter, body);
  }
  return new ApiError(
    response.status,
    `http_${response.status}`,
    response.statusText || `Request failed (${response.status})`,
    {},
    retryAfter,
  );
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** The account this page acts for, named in every request (`X-Account-Id`) once signed in: a
 * session another tab signed in as someone else is then refused (401 `account_changed`)
 * rather than used for this account's saves and screens. */
let actingFor: string | null = null;

/** The account the page acts for (its id as text), or null (signed out, or the worker). */
export function actingAccount(): string | null {
  return actingFor;
}

/** Sets (or, with null, clears) the account the page's requests are made for. */
export function actFor(accountId: number | string | null): void {
  actingFor = accountId === null ? null : String(accountId);
}

/** Sends a request to the API and returns its JSON body (or null for 204). */
export async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const method = (options.method ?? "GET").toUpperCase();
  const headers: Record<string, string> = { Accept: "application/json" };
  if (actingFor !== null) headers[ACCOUNT_HEADER] = actingFor;
  Object.assign(headers, options.headers);
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (UNSAFE.has(method)) {
    const token = readCookie("csrftoken");
    if (token) headers["X-CSRFToken"] = token;
  }
  return answerOf<T>(
    fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    }),
  );
}

/** What a fetch answered: its JSON body (null for 204), or the ApiError it stands for (status
 * 0 when the server could not be reached). `toError` reads error answers (the service worker
 * reads a refused CSRF token its own way). */
export async function answerOf<T>(
  fetching: Promise<Response>,
  toError: (response: Response) => Promise<ApiError> = toApiError,
): Promise<T> {
  let response: Response;
  try {
    response = await fetching;
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError(0, "network_error", "Could not reach the server. Check your connection.");
  }
  if (!response.ok) throw await toError(response);
  if (response.status === 204) return null as T;
  const text = await response.text();
  return (text ? JSON.parse(text) : null) as T;
}

/** A fresh Idempotency-Key for one unsafe request. */
export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}

/** The cursor parameter of a `next` URL, or null. */
export function cursorFrom(next: string | null | undefined): string | null {
  if (!next) return null;
  try {
    return new URL(next, "http://localhost").searchParams.get("cursor");
  } catch {
    return null;
  }
}

export const api = {
  me: (signal?: AbortSignal) => request<User>("/api/v1/me", { signal }),

  login: (credentials: Credentials) =>
    request<LoginResponse>("/api/v1/auth/login", { method: "POST", body: credentials }),

  /** Creates the account, then signs in with it so the session cookie is set. */
  signup: async (credentials: Credentials): Promise<LoginResponse> => {
    await request<SignupResponse>("/api/v1/auth/signup", { method: "POST", body: credentials });
    return api.login(credentials);
  },

  /** Ends the session; `accountId`: only if it is that account's (an owed sign-out). */
  logout: (accountId?: string) =>
    request<null>("/api/v1/auth/logout", {
      method: "POST",
      headers: accountId === undefined ? undefined : { [ACCOUNT_HEADER]: accountId },
    }),

  listMemories: (cursor?: string | null, signal?: AbortSignal) => {
    const query = cursor ? `?cursor=${encodeURIComponent(cursor)}` : "";
    return request<MemoryPage>(`/api/v1/memories${query}`, { signal });
  },

  /** Searches the user's memories; counts toward the plan's searches_per_minute (429 when hit). */
  search: ({ q, mode, limit }: Pick<SearchQuery, "q" | "limit"> & { mode?: SearchMode }, signal?: AbortSignal) => {
    const params = new URLSearchParams({ q });
    if (mode) params.set("mode", mode);
    if (limit !== undefined) params.set("limit", String(limit));
    return request<SearchResult>(`/api/v1/search?${params.toString()}`, { signal });
  },

  createMemory: (memory: MemoryCreate, idempotencyKey: string = newIdempotencyKey()) =>
    request<MemorySave>("/api/v1/memories", {
      method: "POST",
      body: memory,
      headers: { "Idempotency-Key": idempotencyKey },
    }),

  /** Memories changed and ids deleted since `since` (none: from the start), oldest change first;
   * a 410 `cursor_expired` means start over without `since`. */
  memoryChanges: (since?: string | null, signal?: AbortSignal, limit: number = 500) => {
    const params = new URLSearchParams({ limit: String(limit) });
    if (since) params.set("since", since);
    return request<ChangesPage>(`/api/v1/memories/changes?${params.toString()}`, { signal });
  },

  getMemory: (id: string, signal?: AbortSignal) =>
    request<Memory>(`/api/v1/memories/${encodeURIComponent(id)}`, { signal }),

  /** Edits the memory if the server still has `baseVersion`; a 412 ApiError carries the
   * server's copy in `body.current` (see conflictCopy). */
  updateMemory: (
    id: string,
    changes: MemoryChanges,
    baseVersion: number,
    idempotencyKey: string = newIdempotencyKey(),
  ) =>
    request<Memory>(`/api/v1/memories/${encodeURIComponent(id)}`, {
      method: "PATCH",
      body: changes,
      headers: { "If-Match": `"${baseVersion}"`, "Idempotency-Key": idempotencyKey },
    }),

  deleteMemory: (id: string, idempotencyKey: string = newIdempotencyKey()) =>
    request<null>(`/api/v1/memories/${encodeURIComponent(id)}`, {
      method: "DELETE",
      headers: { "Idempotency-Key": idempotencyKey },
    }),

  /** Undoes a delete (within 30 days). */
  restoreMemory: (id: string, idempotencyKey: string = newIdempotencyKey()) =>
    request<Memory>(`/api/v1/memories/${encodeURIComponent(id)}/restore`, {
      method: "POST",
      headers: { "Idempotency-Key": idempotencyKey },
    }),

  usage: (signal?: AbortSignal) => request<Usage>("/api/v1/usage", { signal }),

  /** Sets the account's IANA time zone (reminders are read and shown in it). */
  setTimeZone: (timeZone: string, idempotencyKey: string = newIdempotencyKey()) =>
    request<User>("/api/v1/me", {
      method: "PATCH",
      body: { time_zone: timeZone },
      headers: { "Idempotency-Key": idempotencyKey },
    }),

  /** Due reminders, oldest first, each with its memory; `count` is all of them. */
  inbox: (limit?: number, signal?: AbortSignal) =>
    request<Inbox>(`/api/v1/reminders/inbox${limit ? `?limit=${limit}` : ""}`, { signal }),

  /** The soonest scheduled or snoozed reminder, or null. */
  nextReminder: async (signal?: AbortSignal): Promise<Reminder | null> =>
    (await request<{ results: Reminder[] }>("/api/v1/reminders?limit=1", { signal })).results[0] ?? null,

  memoryReminders: (memoryId: string, signal?: AbortSignal) =>
    request<Reminder[]>(`/api/v1/memories/${encodeURIComponent(memoryId)}/reminders`, { signal }),

  /** `remindAt`: an instant (with offset) or a wall-clock time in the account's zone. */
  addReminder: (memoryId: string, remindAt: string, idempotencyKey: string = newIdempotencyKey()) =>
    request<Reminder>(`/api/v1/memories/${encodeURIComponent(memoryId)}/reminders`, {
      method: "POST",
      body: { remind_at: remindAt },
      headers: { "Idempotency-Key": idempotencyKey },
    }),

  reminderAction: (id: string, action: "done" | "dismiss", idempotencyKey: string = newIdempotencyKey()) =>
    request<Reminder>(`/api/v1/reminders/${encodeURIComponent(id)}/${action}`, {
      method: "POST",
      headers: { "Idempotency-Key": idempotencyKey },
    }),

  /** `until`: an instant (with offset) or a wall-clock time in the account's zone. */
  snoozeReminder: (id: string, until: string, idempotencyKey: string = newIdempotencyKey()) =>
    request<Reminder>(`/api/v1/reminders/${encodeURIComponent(id)}/snooze`, {
      method: "POST",
      body: { until },
      headers: { "Idempotency-Key": idempotencyKey },
    }),

  deleteReminder: (id: string, idempotencyKey: string = newIdempotencyKey()) =>
    request<null>(`/api/v1/reminders/${encodeURIComponent(id)}`, {
      method: "DELETE",
      headers: { "Idempotency-Key": idempotencyKey },
    }),

  /** Open near-duplicate pairs, most alike first; `count` is all of them (none outside the
   * `near_duplicates` flag). */
  nearDuplicates: (limit?: number, signal?: AbortSignal) =>
    request<PairList>(`/api/v1/near-duplicates${limit ? `?limit=${limit}` : ""}`, { signal }),

  /** Keeps the pair's older memory (with both memories' tags) and deletes the newer one;
   * undoable until `undo_until`. */
  mergePair: (id: string, idempotencyKey: string = newIdempotencyKey()) =>
    request<PairMerge>(`/api/v1/near-duplicates/${encodeURIComponent(id)}/merge`, {
      method: "POST",
      headers: { "Idempotency-Key": idempotencyKey },
    }),

  /** Takes a merge back: both memories as they were, the pair open again. */
  undoMerge: (id: string, idempotencyKey: string = newIdempotencyKey()) =>
    request<Pair>(`/api/v1/near-duplicates/${encodeURIComponent(id)}/undo`, {
      method: "POST",
      headers: { "Idempotency-Key": idempotencyKey },
    }),

  /** "Keep both": the pair is never suggested again. */
  dismissPair: (id: string, idempotencyKey: string = newIdempotencyKey()) =>
    request<Pair>(`/api/v1/near-duplicates/${encodeURIComponent(id)}/dismiss`, {
      method: "POST",
      headers: { "Idempotency-Key": idempotencyKey },
    }),

  /** Memories alike to this one, most alike first. */
  relatedMemories: (memoryId: string, signal?: AbortSignal) =>
    request<Related[]>(`/api/v1/memories/${encodeURIComponent(memoryId)}/related`, { signal }),

  listTokens: (cursor?: string | null, signal?: AbortSignal) => {
    const query = cursor ? `?cursor=${encodeURIComponent(cursor)}` : "";
    return request<ApiTokenPage>(`/api/v1/tokens${query}`, { signal });
  },

  /** Creates an API token; the answer's `token` is the secret, shown this once. */
  createToken: (name: string, idempotencyKey: string = newIdempotencyKey()) =>
    request<ApiTokenCreated>("/api/v1/tokens", {
      method: "POST",
      body: { name },
      headers: { "Idempotency-Key": idempotencyKey },
    }),

  revokeToken: (id: number, idempotencyKey: string = newIdempotencyKey()) =>
    request<null>(`/api/v1/tokens/${id}`, {
      method: "DELETE",
      headers: { "Idempotency-Key": idempotencyKey },
    }),
};

/** The server's copy of the memory in a 412 version_conflict, or null for any other error. */
export function conflictCopy(error: unknown): Memory | null {
  if (!(error instanceof ApiError) || error.status !== 412) return null;
  const current = error.body.current;
  return isRecord(current) && typeof current.id === "string" && typeof current.version === "number"
    ? (current as Memory)
    : null;
}
