import { describe, expect, it } from "vitest";
import { headline, parseTags } from "./tags";

describe("parseTags", () => {
  it("splits on commas, trims, drops blanks and repeats", () => {
    expect(parseTags(" work, ideas ,, Work,  big   plans ")).toEqual(["work", "ideas", "big plans"]);
  });
  it("gives an empty list for an empty field", () => {
    expect(parseTags("")).toEqual([]);
    expect(parseTags(" , ")).toEqual([]);
  });
});

describe("headline", () => {
  it("prefers the title", () => {
    expect(headline({ title: "A title", content: "Body" })).toBe("A title");
  });
  it("falls back to the first non-empty line", () => {
    expect(headline({ title: " ", content: "\n  First line \nSecond" })).toBe("First line");
  });
});
