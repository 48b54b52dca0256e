// A user task names its form (property formKey), and a form named by a user task or a start
// event is one the system has (engine.validation._check_catalog and _unknown_form): one of the
// page's form_keys, which are the catalog's, those of the version being edited (deployed
// again with it) and those of the form files attached on the page.
//
// Before checking, the server adapts other tools' forms (engine/foreign/user_tasks.py, _form):
// spiff-arena's formJsonSchemaFilename becomes the form key, as here; a form written for
// Camunda is rewritten or refused there, so it is left to the server.
import { catalogOf, foreignForm, listed, properties, propertyValues } from "./util.mjs";

// The form keys the server checks, or null when the server's adaptation decides them.
function formKeys(node, adapted) {
  const keys = propertyValues(node, "formKey");
  if (!adapted || properties(node).some((p) => p.name === "formKey")) { return keys; }
  const spiff = properties(node).filter((p) => p.name === "formJsonSchemaFilename");
  const file = spiff.length ? spiff[spiff.length - 1].value : "";
  if (file) { return [file]; }
  return foreignForm(node) ? null : keys;
}

// A start event the server reads a form from when adapting: a process's none start event.
function startedByHand(node) {
  return node.$parent && node.$parent.$type === "bpmn:Process"
    && !(node.eventDefinitions || []).length;
}

export default function formKey(options) {
  const catalog = catalogOf(options);

  function unknown(node, keys, reporter) {
    if (keys.length && catalog.formKeys && !catalog.formKeys.has(keys[0])) {
      reporter.report(node.id, `未知的表单“${keys[0]}”：既不是系统表单，也不在本次部署的` +
        "表单文件（.form、.json）中");
    }
  }

  function check(node, reporter) {
    if (node.$type === "bpmn:UserTask") {
      const keys = formKeys(node, true);
      if (keys === null) { return; }
      if (!keys.length) { reporter.report(node.id, "用户任务没有指定表单 (属性 formKey)"); }
      unknown(node, keys, reporter);
    } else if (node.$type === "bpmn:StartEvent") {
      const keys = formKeys(node, startedByHand(node));
      if (keys !== null) { unknown(node, keys, reporter); }
    }
  }
  return { check };
}
