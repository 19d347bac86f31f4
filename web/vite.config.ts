import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// The gateway serves dist/ embedded in its binary (web.go); the output is
// committed, so the build must be reproducible: fixed asset names derived
// from content, no timestamps, no absolute paths.
export default defineConfig({
  plugins: [react()],
  resolve: {
    alias: {
      // The TypeScript client is used from source: no build step, no workspace.
      "@diminuendo/client": here("../clients/typescript/src/index.ts"),
      // The client's source lives outside this package; its one runtime
      // dependency resolves from here, pinned to the client's version
      // (make web-check compares them).
      "openapi-fetch": here("./node_modules/openapi-fetch"),
    },
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1500,
  },
  server: {
    host: "localhost",
    port: 5173,
    strictPort: true,
    proxy: {
      "/api": { target: process.env.GATEWAY_URL ?? "http://127.0.0.1:8001" },
      "/ws": { target: process.env.GATEWAY_URL ?? "http://127.0.0.1:8001", ws: true },
    },
  },
});
