import { afterEach, describe, expect, it, vi } from "vitest";
import { act, cleanup, renderHook } from "@testing-library/react";
import { announceDuplicatesChanged, announceMemorySaved } from "./memoryEvents";
import { useDuplicatesCount } from "./useDuplicatesCount";
import { json, problem, stubFetch } from "../test/helpers";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

/** Answers the list with each of `counts` in turn (the last one from then on). */
function counts(...answers: number[]) {
  return stubFetch(() => json({ count: answers.length > 1 ? answers.shift() : answers[0], results: [] }));
}

describe("useDuplicatesCount", () => {
  it("asks for one pair at start, then once a minute", async () => {
    vi.useFakeTimers();
    const calls = counts(0, 2);
    const { result } = renderHook(() => useDuplicatesCount(vi.fn()));
    await act(() => vi.advanceTimersByTimeAsync(0));
    expect(result.current).toBe(0);
    expect(calls.map((call) => call.url)).toEqual(["/api/v1/near-duplicates?limit=1"]);

    await act(() => vi.advanceTimersByTimeAsync(59_000));
    expect(calls).toHaveLength(1);
    await act(() => vi.advanceTimersByTimeAsync(1_000));
    expect(calls).toHaveLength(2);
    expect(result.current).toBe(2);
  });

  it("looks again 3, 10 and 30 s after a save, and at once when a pair was decided", async () => {
    vi.useFakeTimers();
    const calls = counts(0, 0, 1);
    const { result } = renderHook(() => useDuplicatesCount(vi.fn()));
    await act(() => vi.advanceTimersByTimeAsync(0));

    act(() => announceMemorySaved());
    await act(() => vi.advanceTimersByTimeAsync(3_000));
    expect(calls).toHaveLength(2);
    await act(() => vi.advanceTimersByTimeAsync(7_000));
    expect(calls).toHaveLength(3);
    expect(result.current).toBe(1); // the worker found the pair
    await act(() => vi.advanceTimersByTimeAsync(20_000));
    expect(calls).toHaveLength(4);

    act(() => announceDuplicatesChanged());
    await act(() => vi.advanceTimersByTimeAsync(0));
    expect(calls).toHaveLength(5);
  });

  it("signs out on 401 and keeps the last count on other failures", async () => {
    vi.useFakeTimers();
    let answer = json({ count: 3, results: [] });
    stubFetch(() => answer);
    const onUnauthorized = vi.fn();
    const { result } = renderHook(() => useDuplicatesCount(onUnauthorized));
    await act(() => vi.advanceTimersByTimeAsync(0));
    expect(result.current).toBe(3);

    answer = problem(503, "unavailable", "Try later.");
    act(() => announceDuplicatesChanged());
    await act(() => vi.advanceTimersByTimeAsync(0));
    expect(result.current).toBe(3);

    answer = problem(401, "not_authenticated", "Sign in.");
    act(() => announceDuplicatesChanged());
    await act(() => vi.advanceTimersByTimeAsync(0));
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
  });
});
