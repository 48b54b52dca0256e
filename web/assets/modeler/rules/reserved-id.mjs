// Ids of SpiffWorkflow's own task specs, which break a process when an element takes one
// (engine.validation.RESERVED_IDS and _check_ids: any BPMN element, "….EndJoin" too).
export const RESERVED_IDS = new Set(["Start", "End", "Root"]);

export default function reservedId() {
  function check(node, reporter) {
    if (!String(node.$type).startsWith("bpmn:")) { return; }
    const id = node.id !== undefined ? node.id : node.$attrs && node.$attrs.id;
    if (typeof id === "string" && (RESERVED_IDS.has(id) || id.endsWith(".EndJoin"))) {
      reporter.report(id, `元素 id “${id}” 是引擎保留名，请改名`);
    }
  }
  return { check };
}
