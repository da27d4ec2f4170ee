import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../api/client";
import { json, problem } from "../test/helpers";
import { freshOfflineState } from "../test/offline";
import { claimDevice } from "./account";
import { offlineDb } from "./db";
import { enqueueCreate } from "./queue";
import {
  CSRF_META_KEY,
  SYNC_TAG,
  rememberCsrfToken,
  requestBackgroundSync,
  requests,
  storedCsrfToken,
  workerApi,
} from "./workerApi";

const options = { csrfToken: "tok123", origin: "https://app.example" };

beforeEach(freshOfflineState);
afterEach(() => {
  vi.unstubAllGlobals();
});

describe("the requests the worker sends", () => {
  it("creates with the Idempotency-Key, the CSRF token, same-origin credentials and a JSON body", () => {
    const { url, init } = requests.createMemory({ content: "Hi", created_at: "2026-11-30T10:00:00Z" }, "key-1", options);
    expect(url).toBe("https://app.example/api/v1/memories");
    expect(init.method).toBe("POST");
    expect(init.credentials).toBe("same-origin");
    expect(init.headers).toEqual({
      Accept: "application/json",
      "Content-Type": "application/json",
      "Idempotency-Key": "key-1",
      "X-CSRFToken": "tok123",
    });
    expect(JSON.parse(init.body as string)).toEqual({ content: "Hi", created_at: "2026-11-30T10:00:00Z" });
  });

  it("edits with If-Match the quoted base version", () => {
    const { url, init } = requests.updateMemory("a b", { title: "T" }, 7, "key-2:r1", options);
    expect(url).toBe("https://app.example/api/v1/memories/a%20b");
    expect(init.method).toBe("PATCH");
    expect(init.headers["If-Match"]).toBe('"7"');
    expect(init.headers["Idempotency-Key"]).toBe("key-2:r1");
  });

  it("deletes without a body, and reads the changes feed without a CSRF token", () => {
    const removal = requests.deleteMemory("m1", "key-3", { csrfToken: "tok" });
    expect(removal.url).toBe("/api/v1/memories/m1");
    expect(removal.init.body).toBeUndefined();
    expect(removal.init.headers).toEqual({ Accept: "application/json", "Idempotency-Key": "key-3", "X-CSRFToken": "tok" });
    const feed = requests.memoryChanges("c 1", options);
    expect(feed.url).toBe("https://app.example/api/v1/memories/changes?limit=500&since=c+1");
    expect(feed.init.headers["X-CSRFToken"]).toBeUndefined();
  });

  it("sends no CSRF header when there is no token", () => {
    expect(requests.createMemory({ content: "x" }, "k", { csrfToken: "" }).init.headers["X-CSRFToken"]).toBeUndefined();
  });
});

describe("workerApi", () => {
  it("sends through the given fetch with the token it is given and returns the JSON", async () => {
    const fetch = vi.fn(async () => json({ id: "m1", version: 1, content: "x" }, 201));
    const api = workerApi({ fetch, csrfToken: async () => "abc" });
    await expect(api.createMemory({ content: "x" }, "k1")).resolves.toMatchObject({ id: "m1" });
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("/api/v1/memories");
    expect((init.headers as Record<string, string>)["X-CSRFToken"]).toBe("abc");
  });

  it("names the account whose queue it sends: the device's owner", async () => {
    const fetch = vi.fn(async () => json({ id: "m1", version: 1, content: "x" }, 201));
    const send = () => workerApi({ fetch, csrfToken: async () => "abc" }).createMemory({ content: "x" }, "k1");
    await send(); // nobody's stores yet: no header
    await claimDevice(42);
    await send();
    const named = fetch.mock.calls.map(
      (call) => ((call as unknown as [string, RequestInit])[1].headers as Record<string, string>)["X-Account-Id"],
    );
    expect(named).toEqual([undefined, "42"]);
  });

  it("raises the page's ApiError: a 412 with the server's copy, Retry-After, a network failure", async () => {
    const current = { id: "m1", version: 4 };
    const answers = [
      new Response(JSON.stringify({ code: "version_conflict", detail: "Changed", current }), {
        status: 412,
        headers: { "Content-Type": "application/problem+json" },
      }),
      new Response("", { status: 503, headers: { "Retry-After": "7" } }),
    ];
    const fetch = vi.fn(async () => {
      const next = answers.shift();
      if (!next) throw new TypeError("Failed to fetch");
      return next;
    });
    const api = workerApi({ fetch, csrfToken: async () => "t" });
    const conflict = await api.updateMemory("m1", { title: "x" }, 3, "k").catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(ApiError);
    expect((conflict as ApiError).status).toBe(412);
    expect((conflict as ApiError).body.current).toEqual(current);
    const busy = (await api.deleteMemory("m1", "k").catch((e: unknown) => e)) as ApiError;
    expect([busy.status, busy.retryAfter]).toEqual([503, 7]);
    const offline = (await api.memoryChanges(null).catch((e: unknown) => e)) as ApiError;
    expect([offline.status, offline.code]).toEqual([0, "network_error"]);
  });

  it("reports a refused CSRF token as signed out, so the replay leaves the saves waiting", async () => {
    const fetch = vi.fn(async () => problem(403, "permission_denied", "CSRF Failed: CSRF token missing."));
    const error = (await workerApi({ fetch, csrfToken: async () => "" })
      .createMemory({ content: "x" }, "k")
      .catch((e: unknown) => e)) as ApiError;
    expect([error.status, error.code]).toEqual([401, "csrf_failed"]);
    const other = vi.fn(async () => problem(403, "permission_denied", "Not yours."));
    const refused = (await workerApi({ fetch: other, csrfToken: async () => "" })
      .createMemory({ content: "x" }, "k")
      .catch((e: unknown) => e)) as ApiError;
    expect(refused.status).toBe(403);
  });
});

describe("the CSRF token for the worker", () => {
  it("is stored from the page's cookie, replaced and removed with it", async () => {
    await rememberCsrfToken("other=1; csrftoken=first");
    expect(await storedCsrfToken()).toBe("first");
    await rememberCsrfToken("csrftoken=second");
    expect(await (await offlineDb()).get("meta", CSRF_META_KEY)).toBe("second");
    await rememberCsrfToken("");
    expect(await storedCsrfToken()).toBe("");
  });

  it("is the one the page stored, never a live cookie the page has not vouched for", async () => {
    const fetch = vi.fn(async () => json({ id: "m1", version: 1, content: "x" }, 201));
    const sent = async () => {
      await workerApi({ fetch }).createMemory({ content: "x" }, "k1");
      const [, init] = fetch.mock.calls.at(-1) as unknown as [string, RequestInit];
      return (init.headers as Record<string, string>)["X-CSRFToken"];
    };
    expect(await sent()).toBeUndefined(); // signed out, or not claimed yet: none
    await rememberCsrfToken("csrftoken=stored");
    // Another account signed in since: its cookie waits until its page has claimed the device.
    vi.stubGlobal("cookieStore", { get: async () => ({ value: "another-session" }) });
    expect(await sent()).toBe("stored");
  });
});

describe("requestBackgroundSync", () => {
  function stubRegistration(register: (tag: string) => Promise<void>) {
    vi.stubGlobal("navigator", {
      ...navigator,
      serviceWorker: { getRegistration: async () => ({ sync: { register } }) },
    });
  }

  it("registers the tag, with the token stored, only while the queue holds saves", async () => {
    const register = vi.fn(async () => undefined);
    stubRegistration(register);
    document.cookie = "csrftoken=page-token";
    expect(await requestBackgroundSync()).toBe(false);
    await enqueueCreate({ content: "offline" });
    expect(await requestBackgroundSync()).toBe(true);
    expect(register).toHaveBeenCalledWith(SYNC_TAG);
    expect(await storedCsrfToken()).toBe("page-token");
    document.cookie = "csrftoken=; expires=Thu, 01 Jan 1970 00:00:00 GMT";
  });

  it("does nothing where the browser has no Background Sync", async () => {
    vi.stubGlobal("navigator", { ...navigator, serviceWorker: { getRegistration: async () => ({}) } });
    await enqueueCreate({ content: "offline" });
    expect(await requestBackgroundSync()).toBe(false);
  });
});
