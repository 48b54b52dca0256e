// Bundles the pages' ES-module scripts (web/assets/*.js, which import the bpmn.io packages
// from node_modules) into web/static/build/, one script and one style sheet per page. Run by
// `make install` after `npm ci`; what it writes is not committed.
import { build } from "esbuild";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "web", "static", "build");

const PAGES = {
  modeler: "web/assets/modeler/index.js",
  differ: "web/assets/differ.js",
};

mkdirSync(out, { recursive: true });
await build({
  entryPoints: Object.fromEntries(
    Object.entries(PAGES).map(([name, entry]) => [name, join(root, entry)])),
  bundle: true,
  minify: true,
  sourcemap: true,
  format: "iife",
  target: ["es2020"],
  outdir: out,
  loader: { ".woff": "file", ".woff2": "file", ".ttf": "file", ".eot": "file", ".svg": "file" },
  legalComments: "linked",
  logLevel: "warning",
});
writeFileSync(join(out, ".built"), new Date().toISOString() + "\n");
