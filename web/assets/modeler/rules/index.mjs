// Our executability rules as a bpmnlint plugin ("cqpi/NAME"), packed with bpmnlint's static
// resolver (no file system in the browser): the checks of engine/validation.py and
// engine/cycles.py that the diagram and the page's catalog decide, each saying what the
// server says for the same problem. The server stays the authority: it validates on
// "校验" and before every deployment.
import StaticResolver from "bpmnlint/lib/resolver/static-resolver.js";

import dueIn from "./due-in.mjs";
import formKey from "./form-key.mjs";
import gatewayBranch from "./gateway-branch.mjs";
import knownMessage from "./known-message.mjs";
import reservedId from "./reserved-id.mjs";
import serviceOperation from "./service-operation.mjs";
import userTaskLane from "./user-task-lane.mjs";
import waitInCycle from "./wait-in-cycle.mjs";

export const RULES = {
  "gateway-branch": gatewayBranch,
  "reserved-id": reservedId,
  "service-operation": serviceOperation,
  "form-key": formKey,
  "due-in": dueIn,
  "known-message": knownMessage,
  "user-task-lane": userTaskLane,
  "wait-in-cycle": waitInCycle,
};

const cache = {};
Object.keys(RULES).forEach((name) => { cache[`rule:bpmnlint-plugin-cqpi/${name}`] = RULES[name]; });
const resolver = new StaticResolver(cache);

// bpmn-js-bpmnlint's { config, resolver } with every rule given `catalog` (bpmnlint passes a
// rule's options to its factory): the page's #modeler-options, of which the rules read
// operations, form_keys, messages, groups (the lanes) and lane_aliases. A list that is not
// given is not checked against (without a catalog, only what the diagram alone decides).
export function lintConfig(catalog) {
  const options = catalog || {};
  return {
    config: { rules: Object.fromEntries(Object.keys(RULES).map((name) => [`cqpi/${name}`, ["error", options]])) },
    resolver,
  };
}
