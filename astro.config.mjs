// The public leaderboard: a static Astro site built from the read API or an export snapshot
// (see site/lib/data.ts), served by the same Worker as the API (wrangler.toml [assets]).
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "astro/config";

/**
 * The run pages (most of a large site) are written from the layout's shell, not rendered one by one
 * by Astro (site/lib/run-page.ts): rendering the shell page offers the writer under this key
 * (site/lib/run-pages.ts, in the pages' bundle, where the build's data is loaded), and the hook
 * below calls it once the pages are built.
 */
const RUN_PAGES = Symbol.for("kdgat-site.write-run-pages");

export default defineConfig({
  srcDir: "./site",
  publicDir: "./site/public",
  outDir: "./dist/site",
  output: "static",
  trailingSlash: "always",
  // The Content-Security-Policy (site/public/_headers) allows only same-origin styles and scripts.
  build: { format: "directory", inlineStylesheets: "never" },
  devToolbar: { enabled: false },
  integrations: [
    {
      name: "kdgat-run-pages",
      hooks: {
        "astro:build:done": async ({ dir }) => {
          const writeRunPages = globalThis[RUN_PAGES];
          delete globalThis[RUN_PAGES];
          if (typeof writeRunPages !== "function") throw new Error("Site build: the run pages' shell (site/pages/run-shell.astro) was not rendered");
          const outDir = fileURLToPath(dir);
          await writeRunPages(outDir);
          // A static build leaves some of Astro's server modules in the output: content-assets.mjs and
          // content-modules.mjs always, now and then its manifest chunk (as in withastro/astro#9450; its
          // name is hashed with Date.now(), plugin-manifest.js). None is part of the site.
          for (const name of readdirSync(outDir)) if (name.endsWith(".mjs")) rmSync(join(outDir, name));
        },
      },
    },
  ],
});
