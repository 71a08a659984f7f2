// The public leaderboard: a static Astro site built from the read API or an export snapshot
// (see site/lib/data.ts), served by the same Worker as the API (wrangler.toml [assets]).
import { defineConfig } from "astro/config";

export default defineConfig({
  srcDir: "./site",
  publicDir: "./site/public",
  outDir: "./dist/site",
  output: "static",
  trailingSlash: "always",
  // The Content-Security-Policy (site/public/_headers) allows only same-origin styles and scripts.
  build: { format: "directory", inlineStylesheets: "never" },
  devToolbar: { enabled: false },
});
