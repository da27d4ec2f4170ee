import { describe, expect, it } from "vitest";
import { findUrl, memoryFromShare, sharedFieldsFromForm, sharedFieldsFromQuery, sharedLocation } from "./fromShare";

describe("memoryFromShare", () => {
  it("takes the link Android puts in text, with the page's title", () => {
    expect(memoryFromShare({ title: "Soup recipes", text: "https://example.com/soup", url: "" })).toEqual({
      content: "Soup recipes",
      kind: "link",
      url: "https://example.com/soup",
    });
  });

  it("finds the link in the title too", () => {
    expect(memoryFromShare({ title: "https://example.com/a", text: "", url: null })).toEqual({
      content: "https://example.com/a",
      kind: "link",
      url: "https://example.com/a",
    });
  });

  it("keeps the text around a link as the content and the title as the title", () => {
    expect(
      memoryFromShare({ title: "Grandma's soup", text: "Roast the tomatoes first https://example.com/soup." }),
    ).toEqual({
      content: "Roast the tomatoes first.",
      title: "Grandma's soup",
      kind: "link",
      url: "https://example.com/soup",
    });
  });

  it("prefers the url field and drops its repeats from the text", () => {
    expect(
      memoryFromShare({
        title: "",
        text: "“A quote from the page”\nhttps://example.com/page",
        url: "https://example.com/page",
      }),
    ).toEqual({ content: "“A quote from the page”", kind: "link", url: "https://example.com/page" });
  });

  it("makes a link alone its own content", () => {
    expect(memoryFromShare({ url: "https://example.com/x?y=1#z" })).toEqual({
      content: "https://example.com/x?y=1#z",
      kind: "link",
      url: "https://example.com/x?y=1#z",
    });
  });

  it("makes a text without a link a note", () => {
    expect(memoryFromShare({ title: "Shopping", text: "Milk\n\n\n\nEggs  and   bread" })).toEqual({
      content: "Milk\n\nEggs and bread",
      title: "Shopping",
      kind: "note",
    });
  });

  it("returns null when nothing was shared", () => {
    expect(memoryFromShare({ title: "  ", text: "", url: null })).toBeNull();
    expect(memoryFromShare({})).toBeNull();
  });

  it("ignores addresses that are not http(s)", () => {
    expect(memoryFromShare({ text: "ftp://example.com/file", url: "javascript:alert(1)" })).toEqual({
      content: "ftp://example.com/file",
      kind: "note",
    });
  });
});

describe("findUrl", () => {
  it("leaves the sentence's punctuation and an unopened bracket out", () => {
    expect(findUrl("see (https://example.com/a), then")).toBe("https://example.com/a");
    expect(findUrl("https://en.wikipedia.org/wiki/Foo_(bar)!")).toBe("https://en.wikipedia.org/wiki/Foo_(bar)");
    expect(findUrl("no link here")).toBeNull();
  });
});

describe("the fields' sources", () => {
  it("reads the bookmarklet's query and the share target's form", () => {
    expect(sharedFieldsFromQuery(new URLSearchParams("url=https%3A%2F%2Fa.org&title=A"))).toEqual({
      title: "A",
      text: null,
      url: "https://a.org",
    });
    const form = new FormData();
    form.set("text", "hello https://a.org");
    form.set("url", new Blob(["x"]), "file.txt");
    expect(sharedFieldsFromForm(form)).toEqual({ title: null, text: "hello https://a.org", url: null });
  });

  it("opens the list on the queued memory", () => {
    expect(sharedLocation("local:abc")).toBe("/?shared=local%3Aabc");
    expect(sharedLocation(null)).toBe("/");
  });
});
