#!/usr/bin/env node
// The modeler's lint rules outside the browser, for tests (tests/web/test_lint_rules.py):
//   node web/assets/modeler/lint-cli.mjs DIAGRAM.bpmn CATALOG.json
// parses the diagram as the modeler does (bpmn-moddle with the spiffworkflow extension),
// lints it with our rules given the catalog (the page's #modeler-options: operations,
// form_keys, messages, groups, lane_aliases) and prints the problems as JSON:
// [{"id": element id, "message": text, "rule": "cqpi/NAME"}]. A rule that fails is printed
// with its error as the message and a null id; moddle's warnings go to stderr.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { BpmnModdle } from "bpmn-moddle";
import bpmnlint from "bpmnlint";

import { lintConfig } from "./rules/index.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const [diagram, catalogFile] = process.argv.slice(2);
if (!diagram || !catalogFile) {
  process.stderr.write("usage: node lint-cli.mjs DIAGRAM.bpmn CATALOG.json\n");
  process.exit(2);
}

const spiffworkflow = JSON.parse(readFileSync(join(here, "..", "..", "static", "spiffworkflow.json"), "utf8"));
const moddle = new BpmnModdle({ spiffworkflow });
const { rootElement, warnings } = await moddle.fromXML(readFileSync(diagram, "utf8"));
warnings.forEach((w) => process.stderr.write(`moddle: ${w.message}\n`));

const { config, resolver } = lintConfig(JSON.parse(readFileSync(catalogFile, "utf8")));
const results = await new bpmnlint.Linter({ config, resolver }).lint(rootElement);
const problems = Object.entries(results).flatMap(([rule, reports]) => reports.map((r) => ({
  id: r.category === "rule-error" ? null : r.id, message: r.message, rule,
})));
process.stdout.write(JSON.stringify(problems) + "\n");
