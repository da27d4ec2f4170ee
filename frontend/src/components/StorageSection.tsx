import { useEffect, useState } from "react";
import { LOW_STORAGE_FRACTION, storageUse, type StorageUse } from "../offline/storage";

const bytes = new Intl.NumberFormat(undefined, { style: "unit", unit: "megabyte", maximumFractionDigits: 1 });

function megabytes(value: number): string {
  return bytes.format(value / 1_000_000);
}

/** Settings' "Storage": what this device's copy and queue use of the browser's quota, and a
 * warning at 80 %: past it, a save may be kept only in memory (PWA.md "Storage"). */
export function StorageSection() {
  const [use, setUse] = useState<StorageUse | null | undefined>(undefined);

  useEffect(() => {
    let cancelled = false;
    void storageUse().then((value) => {
      if (!cancelled) setUse(value);
    });
    return () => {
      cancelled = true;
    };
  }, []);

  return (
    <section className="card storage" aria-labelledby="storage-heading">
      <h2 id="storage-heading">Storage</h2>
      {use === undefined && <p className="muted">Reading…</p>}
      {use === null && <p className="muted">This browser does not say how much space the app may use.</p>}
      {use && (
        <>
          <dl className="facts">
            <dt>Used</dt>
            <dd>
              {megabytes(use.usage)} ({Math.round(use.fraction * 100)} %)
            </dd>
            <dt>Available</dt>
            <dd>{megabytes(Math.max(0, use.quota - use.usage))}</dd>
          </dl>
          {use.fraction >= LOW_STORAGE_FRACTION && (
            <p role="alert" className="error">
              This device's storage is almost full. New saves may then be kept only in memory until they are sent:{" "}
              <a href="/api/v1/export">export your memories</a> or free some space.
            </p>
          )}
        </>
      )}
    </section>
  );
}
