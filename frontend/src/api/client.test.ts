import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError, actFor, api, cursorFrom, readCookie, request } from "./client";
import { clearCookies, json, memory, problem, stubFetch } from "../test/helpers";

const saved = {
  ...memory("7d3c0f8e-0000-4000-8000-000000000001", "Hello", { enrichment_status: "pending" }),
  duplicate: false,
};

beforeEach(() => {
  clearCookies();
  document.cookie = "csrftoken=tok%2Ben123";
});

afterEach(() => {
  vi.unstubAllGlobals();
  clearCookies();
});

describe("readCookie", () => {
  it("finds and decodes a cookie among others", () => {
    expect(readCookie("csrftoken", "a=1; csrftoken=abc%3D; b=2")).toBe("abc=");
    expect(readCookie("missing", "a=1")).toBe("");
  });
});

describe("request", () => {
  it("sends X-CSRFToken from the csrftoken cookie on POST, same-origin, with a JSON body", async () => {
    const calls = stubFetch(() => json({ ok: true }));
    await request("/api/v1/thing", { method: "POST", body: { a: 1 } });
    expect(calls).toHaveLength(1);
    const call = calls[0]!;
    expect(call.init.method).toBe("POST");
    expect(call.init.credentials).toBe("same-origin");
    expect(call.headers.get("X-CSRFToken")).toBe("tok+en123");
    expect(call.headers.get("Content-Type")).toBe("application/json");
    expect(call.body).toEqual({ a: 1 });
  });

  it("does not send X-CSRFToken on GET", async () => {
    const calls = stubFetch(() => json({ results: [], next: null }));
    await api.listMemories();
    const call = calls[0]!;
    expect(call.init.method).toBe("GET");
    expect(call.init.credentials).toBe("same-origin");
    expect(call.headers.has("X-CSRFToken")).toBe(false);
    expect(call.url).toBe("/api/v1/memories");
  });

  it("names the account the page acts for in X-Account-Id once signed in, and none after", async () => {
    const calls = stubFetch(() => json({ results: [], next: null }));
    await api.listMemories();
    actFor(7);
    await api.listMemories();
    await api.logout("9"); // an owed sign-out names the account it is owed for
    actFor(null);
    await api.listMemories();
    expect(calls.map((call) => call.headers.get("X-Account-Id"))).toEqual([null, "7", "9", null]);
  });

  it("parses an application/problem+json error into an ApiError", async () => {
    stubFetch(() =>
      problem(400, "invalid", "Some fields are not valid.", { content: ["This field may not be blank."] }),
    );
    const error = await api.createMemory({ content: " " }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    const apiError = error as ApiError;
    expect(apiError.status).toBe(400);
    expect(apiError.code).toBe("invalid");
    expect(apiError.detail).toBe("Some fields are not valid.");
    expect(apiError.message).toBe("Some fields are not valid.");
    expect(apiError.fields).toEqual({ content: ["This field may not be blank."] });
  });

  it("turns a non-JSON error into an ApiError with the status", async () => {
    stubFetch(() => new Response("<h1>Bad gateway</h1>", { status: 502, headers: { "Content-Type": "text/html" } }));
    const error = (await api.me().catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(502);
    expect(error.code).toBe("http_502");
  });

  it("turns a network failure into an ApiError with status 0", async () => {
    vi.stubGlobal("fetch", vi.fn(() => Promise.reject(new TypeError("Failed to fetch"))));
    const error = (await api.me().catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(0);
    expect(error.code).toBe("network_error");
  });
});

describe("api", () => {
  it("sends a fresh Idempotency-Key on each memory create", async () => {
    const calls = stubFetch(() => json(saved, 201));
    await api.createMemory({ content: "Hello", tags: ["a"] });
    await api.createMemory({ content: "Hello again" });
    const first = calls[0]!.headers.get("Idempotency-Key");
    const second = calls[1]!.headers.get("Idempotency-Key");
    expect(first).toMatch(/^[0-9a-f-]{36}$/);
    expect(second).toMatch(/^[0-9a-f-]{36}$/);
    expect(first).not.toBe(second);
    expect(calls[0]!.headers.get("X-CSRFToken")).toBe("tok+en123");
    expect(calls[0]!.body).toEqual({ content: "Hello", tags: ["a"] });
  });

  it("keeps a given Idempotency-Key", async () => {
    const calls = stubFetch(() => json(saved, 201));
    await api.createMemory({ content: "Hello" }, "my-key");
    expect(calls[0]!.headers.get("Idempotency-Key")).toBe("my-key");
  });

  it("signs in after signing up", async () => {
    const calls = stubFetch((url) =>
      url.endsWith("/signup")
        ? json({ user: { id: 1, email: "a@example.com", plan: "free" }, token: "t" }, 201)
        : json({ user: { id: 1, email: "a@example.com", plan: "free" } }),
    );
    const result = await api.signup({ email: "a@example.com", password: "long enough pw" });
    expect(calls.map((c) => c.url)).toEqual(["/api/v1/auth/signup", "/api/v1/auth/login"]);
    expect(calls[1]!.body).toEqual({ email: "a@example.com", password: "long enough pw" });
    expect(result.user.email).toBe("a@example.com");
  });

  it("asks for the next page with the cursor of the `next` URL", async () => {
    const calls = stubFetch(() => json({ results: [], next: null }));
    const next = "http://testserver/api/v1/memories?cursor=cD0yMDI2";
    await api.listMemories(cursorFrom(next));
    expect(calls[0]!.url).toBe("/api/v1/memories?cursor=cD0yMDI2");
    expect(cursorFrom(null)).toBeNull();
  });
});

describe("api.search", () => {
  it("sends q, mode and limit as query parameters", async () => {
    const calls = stubFetch(() => json({ mode_used: "hybrid", degraded: false, results: [] }));
    const result = await api.search({ q: "green tea & cake", mode: "hybrid", limit: 20 });
    expect(calls[0]!.url).toBe("/api/v1/search?q=green+tea+%26+cake&mode=hybrid&limit=20");
    expect(calls[0]!.init.method).toBe("GET");
    expect(result.degraded).toBe(false);
  });

  it("carries Retry-After on a 429, or the problem's retry_after", async () => {
    stubFetch(() => {
      const response = problem(429, "rate_limited", "Too many requests; retry in 7 s.");
      response.headers.set("Retry-After", "7");
      return response;
    });
    const error = (await api.search({ q: "x" }).catch((e: unknown) => e)) as ApiError;
    expect(error.status).toBe(429);
    expect(error.code).toBe("rate_limited");
    expect(error.retryAfter).toBe(7);

    stubFetch(
      () =>
        new Response(JSON.stringify({ status: 429, code: "rate_limited", detail: "Slow down.", retry_after: 3 }), {
          status: 429,
          headers: { "Content-Type": "application/problem+json" },
        }),
    );
    const fromBody = (await api.search({ q: "x" }).catch((e: unknown) => e)) as ApiError;
    expect(fromBody.retryAfter).toBe(3);
  });
});
