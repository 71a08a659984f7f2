// The public leaderboard: a static Astro site built from the read API or an export snapshot
// (see site/lib/data.ts), served by the same Worker as the API (wrangler.toml [assets]).
import { fileURLToPath } from "node:url";
import { defineConfig } from "astro/config";
import { writeRunPages } from "./site/lib/run-pages";

export default defineConfig({
  srcDir: "./site",
  publicDir: "./site/public",
  outDir: "./dist/site",
  output: "static",
  trailingSlash: "always",
  // The Content-Security-Policy (site/public/_headers) allows only same-origin styles and scripts.
  build: { format: "directory", inlineStylesheets: "never" },
  devToolbar: { enabled: false },
  // The run pages (most of a large site) are written from the layout's shell, not rendered one by
  // one by Astro: site/lib/run-page.ts.
  integrations: [{ name: "kdgat-run-pages", hooks: { "astro:build:done": async ({ dir }) => void (await writeRunPages(fileURLToPath(dir))) } }],
});
