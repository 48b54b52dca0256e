// bpmnlint's configuration for the modeler: our executability rules (./rules/), packed for the
// browser with bpmnlint's static resolver (no file system there).
import StaticResolver from "bpmnlint/lib/resolver/static-resolver";

const RULES = {};

const cache = {};
Object.keys(RULES).forEach((name) => { cache[`rule:bpmnlint-plugin-cqpi/${name}`] = RULES[name]; });

export default {
  config: { rules: Object.fromEntries(Object.keys(RULES).map((name) => [`cqpi/${name}`, "error"])) },
  resolver: new StaticResolver(cache),
};
