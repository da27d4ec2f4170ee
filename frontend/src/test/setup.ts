import "@testing-library/jest-dom/vitest";
import "fake-indexeddb/auto";
import { configure } from "@testing-library/dom";

// findBy… waits up to this long: the machine the tests run on may be busy.
configure({ asyncUtilTimeout: 10_000 });
import { vi } from "vitest";

// And a test has that long in all: waiting is fine, failing for a slow machine is not.
vi.setConfig({ testTimeout: 30_000 });
