import { describe, expect, it } from "vitest";
import { snippetParts, unescapeHtml } from "./snippet";

describe("snippetParts", () => {
  it("splits marked words out and unescapes the text", () => {
    expect(snippetParts("a &lt;b&gt; <mark>tea</mark> &amp; <mark>cake</mark>.")).toEqual([
      { text: "a <b> ", match: false },
      { text: "tea", match: true },
      { text: " & ", match: false },
      { text: "cake", match: true },
      { text: ".", match: false },
    ]);
    expect(snippetParts("")).toEqual([]);
    expect(snippetParts("plain")).toEqual([{ text: "plain", match: false }]);
  });

  it("unescapes once only", () => {
    expect(unescapeHtml("&amp;lt; &#39; &#x27; &quot;")).toBe("&lt; ' ' \"");
  });
});
