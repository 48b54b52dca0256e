// An exclusive or inclusive gateway with several outgoing flows: each needs a condition or
// must be the default (engine.validation._check_gateways, same message, on the flow).
const GATEWAYS = new Set(["bpmn:ExclusiveGateway", "bpmn:InclusiveGateway"]);

export default function gatewayBranch() {
  function check(node, reporter) {
    if (!GATEWAYS.has(node.$type)) { return; }
    const siblings = (node.$parent && node.$parent.flowElements) || [];
    const flows = siblings.filter((f) => f.$type === "bpmn:SequenceFlow" && f.sourceRef === node);
    if (flows.length < 2) { return; }
    flows.forEach((flow) => {
      if (!flow.conditionExpression && flow !== node.default) {
        reporter.report(flow.id, `网关“${node.name || node.id}”的分支“${flow.name || flow.id}”` +
          "既没有条件也不是默认分支");
      }
    });
  }
  return { check };
}
