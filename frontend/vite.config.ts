/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";
import { VitePWA } from "vite-plugin-pwa";

// The built index.html must work under the site's Content-Security-Policy
// (script-src 'self'; style-src 'self' 'nonce-…'): no inline scripts or styles.
export default defineConfig({
  base: "/",
  plugins: [
    react(),
    VitePWA({
      // A new version waits for the user's "Reload" (UpdatePrompt), never swaps code under them.
      registerType: "prompt",
      injectRegister: false,
      includeAssets: ["icon.svg", "apple-touch-icon.png"],
      manifest: {
        id: "/",
        name: "Memory Connector",
        short_name: "Memories",
        description: "Capture what you want to remember and find it again.",
        start_url: "/",
        scope: "/",
        display: "standalone",
        background_color: "#f6f5f2",
        theme_color: "#2f5d8a",
        icons: [
          { src: "/icon-192.png", sizes: "192x192", type: "image/png" },
          { src: "/icon-512.png", sizes: "512x512", type: "image/png" },
          { src: "/icon-maskable-512.png", sizes: "512x512", type: "image/png", purpose: "maskable" },
          { src: "/icon.svg", sizes: "any", type: "image/svg+xml" },
        ],
        // Android's share sheet (docs/pwa.md "Share into the app"): the worker queues it.
        share_target: {
          action: "/share",
          method: "POST",
          enctype: "multipart/form-data",
          params: { title: "title", text: "text", url: "url" },
        },
      },
      // Our own worker (src/sw.ts): the app shell, Background Sync of the save queue, the share
      // target. The build injects the precache manifest (the app shell) into it.
      strategies: "injectManifest",
      srcDir: "src",
      filename: "sw.ts",
      injectManifest: {
        globPatterns: ["**/*.{js,css,html,svg,png,webmanifest}"],
        // One classic script: the worker is registered without `type: "module"`.
        rollupFormat: "iife",
      },
    }),
  ],
  build: {
    outDir: "dist",
    assetsDir: "assets",
    emptyOutDir: true,
    // Never inline assets as data: URLs into JS/CSS, and no module preload polyfill
    // (it would be an inline script in some setups).
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  server: {
    proxy: {
      "/api": "http://127.0.0.1:8000",
      "/admin": "http://127.0.0.1:8000",
      "/static": "http://127.0.0.1:8000",
    },
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    restoreMocks: true,
    setupFiles: ["src/test/setup.ts"],
  },
});
