// Bundles the pages' ES-module scripts (web/assets/*.js, which import the bpmn.io packages
// from node_modules) into web/static/build/, one script and one style sheet per page. Run by
// `make install` after `npm ci`; what it writes is not committed.
import { build } from "esbuild";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "web", "static", "build");

const PAGES = {
  modeler: "web/assets/modeler/index.js",
  differ: "web/assets/differ.js",
};

// The pages' Content-Security-Policy refuses style="" attributes (style-src 'self'). Two
// packages write them into HTML: bpmn-js-properties-panel's containers (web/static/cqpi.css
// gives them the same declarations, so the attributes go) and bpmn-js-token-simulation's
// colours of a simulated scope (renamed data-cqpi-style, which web/assets/modeler/util.js
// applies through the CSSOM, which the policy allows). A package that no longer holds what is
// rewritten fails the build, so the rewrite is never silently stale.
const REWRITES = [
  {
    filter: /bpmn-js-properties-panel[\\/]dist[\\/]index\.esm\.js$/,
    from: [' style="height: 100%"', ' style="flex: none; height: auto"'],
    to: () => "",
  },
  {
    filter: /bpmn-js-token-simulation[\\/]lib[\\/].*(ShowScopes|Log|Notifications|TokenCount|ElementNotifications)\.js$/,
    from: [/style="(?=[^"]*\$\{)/],
    to: () => "data-cqpi-style=\"",
  },
];

const withoutInlineStyles = {
  name: "without-inline-styles",
  setup(build) {
    for (const rewrite of REWRITES) {
      build.onLoad({ filter: rewrite.filter }, (args) => {
        let text = readFileSync(args.path, "utf8");
        for (const pattern of rewrite.from) {
          const found = typeof pattern === "string" ? text.includes(pattern) : pattern.test(text);
          if (!found) { throw new Error(`${args.path} no longer holds ${pattern}`); }
          text = typeof pattern === "string"
            ? text.split(pattern).join(rewrite.to())
            : text.replace(new RegExp(pattern.source, "g"), rewrite.to());
        }
        return { contents: text, loader: "js" };
      });
    }
  },
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
  plugins: [withoutInlineStyles],
});
writeFileSync(join(out, ".built"), new Date().toISOString() + "\n");
