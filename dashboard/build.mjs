// Builds the dashboard into ../netsec-core/assets/dashboard: app.js and app.css (minified,
// no source maps, no timestamps, so the same sources always give the same bytes; CI checks
// the committed bundle matches) and index.html.
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";

const out = "../netsec-core/assets/dashboard";
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: "src/main.tsx" },
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2020",
  jsx: "automatic",
  jsxImportSource: "preact",
  outdir: out,
  legalComments: "none",
  logLevel: "warning",
});
copyFileSync("src/index.html", `${out}/index.html`);
