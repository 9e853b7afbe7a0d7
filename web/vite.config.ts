/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { defineConfig, type Plugin } from "vite";

/** Ships codegen's list of the studio's operations (src/gql/persisted-documents.json, every
 * document under src/ with its `sha256:` id) as dist/persisted-documents.json, beside
 * index.html: the service loads it as its trusted documents (elementsite/trusted_documents.py).
 * Not under assets/, so the service does not serve it. */
function trustedDocuments(): Plugin {
  return {
    name: "trusted-documents",
    apply: "build",
    generateBundle() {
      const source = readFileSync(
        resolve(import.meta.dirname, "src/gql/persisted-documents.json"),
        "utf8",
      );
      JSON.parse(source); // a torn file fails the build, not the service's start
      this.emitFile({ type: "asset", fileName: "persisted-documents.json", source });
    },
  };
}

// Two pages: the studio (index.html, every client route) and GraphiQL (graphiql.html, served
// by the service at GET /graphql for browsers). Both load only files from the service.
export default defineConfig({
  plugins: [react(), trustedDocuments()],
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    chunkSizeWarningLimit: 4000,
    rollupOptions: {
      // GraphiQL's files carry React Compiler directives ("use no memo") a bundle can't keep;
      // harmless, and hundreds of lines of noise in every build.
      onwarn(warning, warn) {
        if (warning.code === "MODULE_LEVEL_DIRECTIVE") return;
        warn(warning);
      },
      input: {
        studio: resolve(import.meta.dirname, "index.html"),
        graphiql: resolve(import.meta.dirname, "graphiql.html"),
      },
    },
  },
  worker: { format: "es" },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    css: false,
  },
});
