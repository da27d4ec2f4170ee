import { useRegisterSW } from "virtual:pwa-register/react";

/** Registers the service worker; when a new version of the app is installed, offers a reload
 * instead of swapping code under the user. */
export function UpdatePrompt() {
  const {
    needRefresh: [needRefresh, setNeedRefresh],
    updateServiceWorker,
  } = useRegisterSW();

  if (!needRefresh) return null;
  return (
    <div className="update-prompt" role="status">
      <span>A new version is ready.</span>
      <button type="button" className="button primary" onClick={() => void updateServiceWorker(true)}>
        Reload
      </button>
      <button type="button" className="button quiet" onClick={() => setNeedRefresh(false)}>
        Later
      </button>
    </div>
  );
}
