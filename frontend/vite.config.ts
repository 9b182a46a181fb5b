/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// Django serves the build: assets under /static/ui/ (whitenoise, long cache), index.html for every
// client route. `make ui-dev` proxies the API (:8000); the WebSocket address comes from /api/v1/meta/.
const api = process.env.HELPLINE_API ?? "http://127.0.0.1:8000";

export default defineConfig(({ command }) => ({
  base: command === "build" ? "/static/ui/" : "/",
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, target: "es2022" },
  server: {
    port: 5173,
    proxy: {
      "/api": api,
      "/admin": api,
      "/static": api,
      "/media": api,
      "/ws": { target: process.env.HELPLINE_WS ?? "http://127.0.0.1:8001", ws: true },
    },
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/test-setup.ts"],
  },
}));
