// bpmnlint's configuration for the modeler: our executability rules (./rules/), packed for the
// browser with bpmnlint's static resolver (no file system there). lintConfig(options) gives
// the rules the page's catalog (#modeler-options); the default export has no catalog and
// checks only what the diagram alone decides.
import { lintConfig } from "./rules/index.mjs";

export { lintConfig };

export default lintConfig();
