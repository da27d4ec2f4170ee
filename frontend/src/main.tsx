import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router";
import { App } from "./App";
import { UpdatePrompt } from "./components/UpdatePrompt";
import { startBackgroundSync } from "./offline/workerApi";
import "./styles.css";

const root = document.getElementById("root");
if (!root) throw new Error("No #root element in index.html");

// The service worker's part of the replay: it needs the CSRF token the page can read, and a
// `sync` registration whenever the queue holds saves (the page's own replay is App's startSync;
// the Web Lock keeps the two from sending at once). The worker itself is registered by
// UpdatePrompt.
startBackgroundSync();

createRoot(root).render(
  <StrictMode>
    <BrowserRouter>
      <App />
    </BrowserRouter>
    <UpdatePrompt />
  </StrictMode>,
);
