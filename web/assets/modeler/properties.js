// The properties panel's provider for what cqpi's engine reads, beside bpmn.io's own groups
// (name and id, documentation, message, timer): a user task's form, scope and due time; a start
// event's form; a service task's operation and its parameters; a sequence flow's condition.
// Values live where the engine reads them: spiffworkflow:properties / property (formKey,
// scope, dueIn), spiffworkflow:serviceTaskOperator with its parameterList, and the flow's
// bpmn:conditionExpression. Every change is one command on bpmn-js's command stack (undo).
import { Group, ListGroup, SelectEntry, TextAreaEntry, TextFieldEntry,
  isSelectEntryEdited, isTextAreaEntryEdited, isTextFieldEntryEdited } from "@bpmn-io/properties-panel";
import { jsx } from "@bpmn-io/properties-panel/preact/jsx-runtime";
import { useService } from "bpmn-js-properties-panel";
import { is } from "bpmn-js/lib/util/ModelUtil";

const PROPERTIES = "spiffworkflow:Properties";
const OPERATOR = "spiffworkflow:ServiceTaskOperator";

function extensionValues(bo) {
  const ext = bo.get("extensionElements");
  return (ext && ext.get("values")) || [];
}

function extension(bo, type) {
  return extensionValues(bo).find((value) => is(value, type));
}

export function propertyOf(bo, name) {
  const props = extension(bo, PROPERTIES);
  const hit = props && props.get("properties").find((p) => p.name === name);
  return hit ? hit.value || "" : "";
}

function update(element, moddleElement, properties) {
  return { cmd: "element.updateModdleProperties", context: { element, moddleElement, properties } };
}

// The commands that make sure `bo` has extensionElements holding one element of `type`
// (made by `make` when missing): [commands, the element].
function ensureExtension(element, bpmnFactory, type, make) {
  const bo = element.businessObject;
  const commands = [];
  let ext = bo.get("extensionElements");
  if (!ext) {
    ext = bpmnFactory.create("bpmn:ExtensionElements", { values: [] });
    ext.$parent = bo;
    commands.push(update(element, bo, { extensionElements: ext }));
  }
  let found = ext.get("values").find((value) => is(value, type));
  if (!found) {
    found = make();
    found.$parent = ext;
    commands.push(update(element, ext, { values: [...ext.get("values"), found] }));
  }
  return [commands, found];
}

function setProperty(element, name, value, bpmnFactory, commandStack) {
  const text = (value || "").trim();
  const existing = extension(element.businessObject, PROPERTIES);
  if (!text && !existing) { return; }
  const [commands, props] = ensureExtension(element, bpmnFactory, PROPERTIES,
    () => bpmnFactory.create(PROPERTIES, { properties: [] }));
  const list = props.get("properties");
  const hit = list.find((p) => p.name === name);
  if (hit && !text) {
    commands.push(update(element, props, { properties: list.filter((p) => p !== hit) }));
  } else if (hit) {
    commands.push(update(element, hit, { value: text }));
  } else if (text) {
    const created = bpmnFactory.create("spiffworkflow:Property", { name, value: text });
    created.$parent = props;
    commands.push(update(element, props, { properties: [...list, created] }));
  }
  commandStack.execute("properties-panel.multi-command-executor", commands);
}

function PropertyEntry(props) {
  const { element, id, name, label, description, choices } = props;
  const bpmnFactory = useService("bpmnFactory");
  const commandStack = useService("commandStack");
  const debounce = useService("debounceInput");
  const getValue = () => propertyOf(element.businessObject, name);
  const setValue = (value) => setProperty(element, name, value, bpmnFactory, commandStack);
  if (choices) {
    const getOptions = () => {
      const current = getValue();
      const all = current && !choices.includes(current) ? [current, ...choices] : choices;
      return [{ value: "", label: "（无）" }, ...all.map((key) => ({ value: key, label: key }))];
    };
    return jsx(SelectEntry, { element, id, label, description, getValue, setValue, getOptions });
  }
  return jsx(TextFieldEntry, { element, id, label, description, getValue, setValue, debounce });
}

function propertyEntry(element, name, label, extra) {
  return {
    id: `cqpi-${name}`, element, name, label, component: PropertyEntry,
    isEdited: extra && extra.choices ? isSelectEntryEdited : isTextFieldEntryEdited, ...extra,
  };
}

// ---- service task: the operation and its parameters ----

function operatorOf(bo) { return extension(bo, OPERATOR); }

function parametersOf(bo) {
  const op = operatorOf(bo);
  const list = op && op.get("parameterList");
  return (list && list.get("parameters")) || [];
}

function ensureOperator(element, bpmnFactory) {
  return ensureExtension(element, bpmnFactory, OPERATOR,
    () => bpmnFactory.create(OPERATOR, {}));
}

function OperationEntry(props) {
  const { element, id, operations } = props;
  const bpmnFactory = useService("bpmnFactory");
  const commandStack = useService("commandStack");
  const getValue = () => { const op = operatorOf(element.businessObject); return (op && op.id) || ""; };
  const setValue = (value) => {
    const [commands, op] = ensureOperator(element, bpmnFactory);
    commands.push(update(element, op, { id: value || undefined }));
    commandStack.execute("properties-panel.multi-command-executor", commands);
  };
  const getOptions = () => {
    const current = getValue();
    const all = current && !operations.includes(current) ? [current, ...operations] : operations;
    return [{ value: "", label: "（请选择）" }, ...all.map((name) => ({ value: name, label: name }))];
  };
  return jsx(SelectEntry, { element, id, label: "服务操作", getValue, setValue, getOptions });
}

function ParameterField(props) {
  const { element, id, parameter, field, label } = props;
  const commandStack = useService("commandStack");
  const debounce = useService("debounceInput");
  return jsx(TextFieldEntry, {
    element, id, label, debounce,
    getValue: () => parameter.get(field) || "",
    setValue: (value) => commandStack.execute("element.updateModdleProperties",
      { element, moddleElement: parameter, properties: { [field]: (value || "").trim() } }),
  });
}

function parameterItems(element, injector) {
  const bpmnFactory = injector.get("bpmnFactory");
  const commandStack = injector.get("commandStack");
  const parameters = parametersOf(element.businessObject);
  const items = parameters.map((parameter, index) => {
    const id = `cqpi-parameter-${index}`;
    return {
      id,
      label: parameter.get("id") || `参数 ${index + 1}`,
      entries: [
        { id: `${id}-name`, component: ParameterField, element, parameter, field: "id", label: "参数名" },
        { id: `${id}-value`, component: ParameterField, element, parameter, field: "value", label: "值（表达式）" },
      ],
      autoFocusEntry: `${id}-name`,
      remove: () => {
        const list = operatorOf(element.businessObject).get("parameterList");
        commandStack.execute("element.updateModdleProperties", {
          element, moddleElement: list,
          properties: { parameters: list.get("parameters").filter((p) => p !== parameter) },
        });
      },
    };
  });
  const add = (event) => {
    event.stopPropagation();
    const [commands, op] = ensureOperator(element, bpmnFactory);
    let list = op.get("parameterList");
    if (!list) {
      list = bpmnFactory.create("spiffworkflow:Parameters", { parameters: [] });
      list.$parent = op;
      commands.push(update(element, op, { parameterList: list }));
    }
    const created = bpmnFactory.create("spiffworkflow:Parameter", { id: "", type: "any", value: "" });
    created.$parent = list;
    commands.push(update(element, list, { parameters: [...list.get("parameters"), created] }));
    commandStack.execute("properties-panel.multi-command-executor", commands);
  };
  return { items, add };
}

// ---- sequence flow: the condition ----

function ConditionEntry(props) {
  const { element, id } = props;
  const bpmnFactory = useService("bpmnFactory");
  const commandStack = useService("commandStack");
  const debounce = useService("debounceInput");
  const getValue = () => {
    const condition = element.businessObject.get("conditionExpression");
    return (condition && condition.get("body")) || "";
  };
  const setValue = (value) => {
    const text = (value || "").trim();
    const expression = text ? bpmnFactory.create("bpmn:FormalExpression", { body: text }) : undefined;
    if (expression) { expression.$parent = element.businessObject; }
    commandStack.execute("element.updateModdleProperties", {
      element, moddleElement: element.businessObject, properties: { conditionExpression: expression },
    });
  };
  return jsx(TextAreaEntry, {
    element, id, label: "分支条件（表达式）", getValue, setValue, debounce, rows: 2,
    description: "如 decision == \"approve\"；默认分支留空（在网关的右键菜单中设为默认）",
  });
}

function isConditional(element) {
  const source = element.businessObject.sourceRef;
  return is(element, "bpmn:SequenceFlow") && source &&
    (is(source, "bpmn:ExclusiveGateway") || is(source, "bpmn:InclusiveGateway") ||
     is(source, "bpmn:Activity"));
}

// ---- lane: the role that works its tasks ----

function LaneRoleEntry(props) {
  const { element, id, groups } = props;
  const modeling = useService("modeling");
  const getValue = () => element.businessObject.name || "";
  const setValue = (value) => modeling.updateProperties(element, { name: value || undefined });
  const getOptions = () => {
    const current = getValue();
    const all = current && !groups.includes(current) ? [current, ...groups] : groups;
    return [{ value: "", label: "（请选择）" }, ...all.map((name) => ({ value: name, label: name }))];
  };
  return jsx(SelectEntry, {
    element, id, label: "办理角色（泳道名称）", getValue, setValue, getOptions,
    description: "泳道中的用户任务由此角色办理；其他名称须在部署文件 deployment.json 中声明",
  });
}

// ---- the provider ----

function CqpiPropertiesProvider(propertiesPanel, injector, config) {
  this._injector = injector;
  this._catalog = config || {};
  propertiesPanel.registerProvider(500, this);
}

CqpiPropertiesProvider.$inject = ["propertiesPanel", "injector", "config.cqpi"];

CqpiPropertiesProvider.prototype.getGroups = function (element) {
  return (groups) => {
    const catalog = this._catalog;
    const entries = [];
    if (is(element, "bpmn:UserTask") || is(element, "bpmn:StartEvent")) {
      entries.push(propertyEntry(element, "formKey", "表单", {
        choices: catalog.form_keys || [],
        description: is(element, "bpmn:StartEvent") ? "发起时填写的表单（可不填）" : "办理时填写的表单",
      }));
    }
    if (is(element, "bpmn:UserTask")) {
      entries.push(propertyEntry(element, "scope", "办理范围（表达式）",
        { description: "如 scope：只有该区县的审核人员能看到此任务" }));
      entries.push(propertyEntry(element, "dueIn", "办理期限（ISO 8601 时长）",
        { description: "如 P5D（5 天）" }));
    }
    if (is(element, "bpmn:ServiceTask")) {
      entries.push({ id: "cqpi-operation", element, operations: catalog.operations || [],
        component: OperationEntry, isEdited: isSelectEntryEdited });
    }
    if (is(element, "bpmn:Lane")) {
      entries.push({ id: "cqpi-lane", element, groups: catalog.groups || [],
        component: LaneRoleEntry, isEdited: isSelectEntryEdited });
    }
    if (isConditional(element)) {
      entries.push({ id: "cqpi-condition", element, component: ConditionEntry,
        isEdited: isTextAreaEntryEdited });
    }
    const added = [];
    if (entries.length) {
      added.push({ id: "cqpi", label: "引擎属性", entries, component: Group });
    }
    if (is(element, "bpmn:ServiceTask")) {
      added.push({ id: "cqpi-parameters", label: "服务参数", component: ListGroup,
        ...parameterItems(element, this._injector) });
    }
    const general = groups.findIndex((g) => g.id === "general");
    groups.splice(general + 1, 0, ...added);
    return groups;
  };
};

export default {
  __init__: ["cqpiPropertiesProvider"],
  cqpiPropertiesProvider: ["type", CqpiPropertiesProvider],
};
