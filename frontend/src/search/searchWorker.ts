// The Web Worker of offline search: typing on the page never waits for the index to be built
// or queried. It opens the same IndexedDB database as the page (offline/db.ts) and reads the
// copy itself; the page tells it when the copy or the queue changed.
/// <reference lib="webworker" />
import { createSearchEngine } from "./engine";
import type { FromWorker, ToWorker } from "./protocol";

const scope = self as unknown as DedicatedWorkerGlobalScope;
const engine = createSearchEngine();
// Built at once, so the first query does not wait for 5,000 rows to be read.
engine.warm().catch(() => undefined);

function reply(message: FromWorker): void {
  scope.postMessage(message);
}

scope.addEventListener("message", (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  if (message.type === "refresh") {
    // A failed read leaves the index as it was: the next change or query tries again.
    engine.refresh().catch(() => undefined);
    return;
  }
  engine.search(message.query, message.limit).then(
    (answer) => reply({ type: "results", id: message.id, ...answer }),
    (error: unknown) =>
      reply({ type: "error", id: message.id, message: error instanceof Error ? error.message : String(error) }),
  );
});
