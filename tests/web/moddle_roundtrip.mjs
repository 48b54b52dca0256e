// Reads each diagram given as an argument the way the modeler does (bpmn-moddle with the
// spiffworkflow extension, web/static/spiffworkflow.json) and writes it back; prints JSON
// {path: saved XML}. Used by tests/web/test_modeler_roundtrip.py.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { BpmnModdle } from "bpmn-moddle";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const spiffworkflow = JSON.parse(readFileSync(join(root, "web", "static", "spiffworkflow.json"), "utf8"));
const saved = {};
for (const path of process.argv.slice(2)) {
  const moddle = new BpmnModdle({ spiffworkflow });
  const { rootElement } = await moddle.fromXML(readFileSync(path, "utf8"));
  saved[path] = (await moddle.toXML(rootElement, { format: true })).xml;
}
process.stdout.write(JSON.stringify(saved));
