// A service task names a registered service operation (engine.validation._check_catalog).
// One written for Camunda (external task topic, job type) without the engine's operator is
// rewritten by the server first (engine/foreign/service_tasks.py): left to the server.
import { catalogOf, foreignService, listed, operators } from "./util.mjs";

export default function serviceOperation(options) {
  const catalog = catalogOf(options);
  function check(node, reporter) {
    if (node.$type !== "bpmn:ServiceTask") { return; }
    const written = operators(node);
    const ops = written.filter((op) => op.id !== undefined).map((op) => op.id);
    if (!ops.length) {
      if (!written.length && foreignService(node)) { return; }
      reporter.report(node.id, "服务任务没有指定服务操作 (serviceTaskOperator)");
    } else if (catalog.operations && !catalog.operations.has(ops[0])) {
      reporter.report(node.id, `未知的服务操作“${ops[0]}”（已注册: ${listed(catalog.operations)}）`);
    }
  }
  return { check };
}
