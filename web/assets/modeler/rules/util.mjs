// What the rules share: reading the moddle tree as engine/validation.py reads the XML (element
// kinds, the engine's properties and service operator), the catalog the page gives, lists
// written as the server writes them, and which elements carry another tool's dialect (the
// server adapts those before it checks them: engine/foreign).

const CAMUNDA = "http://camunda.org/schema/1.0/bpmn";
const ZEEBE = "http://camunda.org/schema/zeebe/1.0";
const USUAL_PREFIXES = { camunda: CAMUNDA, zeebe: ZEEBE };

// An element's local name as in the XML ("bpmn:UserTask" -> "userTask"); "" for another
// namespace than BPMN's.
export function local(element) {
  const type = (element && element.$type) || "";
  if (!type.startsWith("bpmn:")) { return ""; }
  return type.charAt(5).toLowerCase() + type.slice(6);
}

// Python's sorted() on strings: by code point (JavaScript's default sort compares UTF-16
// code units, which differs beyond the Basic Multilingual Plane).
export function sorted(names) {
  return [...names].sort((a, b) => {
    const x = Array.from(a);
    const y = Array.from(b);
    for (let i = 0; i < Math.min(x.length, y.length); i += 1) {
      const d = x[i].codePointAt(0) - y[i].codePointAt(0);
      if (d) { return d; }
    }
    return x.length - y.length;
  });
}

// A catalog list as the server writes it in a message: "、".join(sorted(...)) or "无".
export function listed(names, none = "无") {
  return sorted(names).join("、") || none;
}

// The page's catalog (#modeler-options: operations, form_keys, messages, groups,
// lane_aliases, declared_lanes) as sets and maps; a list the page does not give is null: what
// needs it is not checked. Read at each lint, so that what the page adds later (forms attached
// to the deployment) counts.
export function catalogOf(options) {
  const given = options || {};
  const set = (list) => (Array.isArray(list) ? new Set(list) : null);
  const map = (object) => new Map(object && typeof object === "object" ? Object.entries(object) : []);
  return {
    operations: set(given.operations),
    formKeys: set(given.form_keys),
    messages: set(given.messages),
    lanes: set(given.groups),
    laneAliases: map(given.lane_aliases),
    declaredLanes: map(given.declared_lanes),
  };
}

export function extensionValues(element) {
  const ext = element && element.extensionElements;
  return (ext && ext.values) || [];
}

// The engine's properties (spiffworkflow:properties/spiffworkflow:property), in order.
export function properties(element) {
  return extensionValues(element)
    .filter((value) => value.$type === "spiffworkflow:Properties")
    .flatMap((holder) => holder.properties || []);
}

// The values of the properties called `name` that have a value (the server's
// "property[@name=NAME]/@value").
export function propertyValues(element, name) {
  return properties(element).filter((p) => p.name === name && p.value !== undefined)
    .map((p) => p.value);
}

export function operators(element) {
  return extensionValues(element).filter((value) => value.$type === "spiffworkflow:ServiceTaskOperator");
}

function namespaceOf(element, prefix) {
  for (let node = element; node; node = node.$parent) {
    const uri = node.$attrs && node.$attrs[`xmlns:${prefix}`];
    if (uri) { return uri; }
  }
  return USUAL_PREFIXES[prefix];
}

function foreignExtensions(element, uri, name) {
  return extensionValues(element).filter((value) => {
    const ns = value.$descriptor && value.$descriptor.ns;
    const [prefix, localName] = String(value.$type).split(":");
    return localName === name && ((ns && ns.uri) || namespaceOf(element, prefix)) === uri;
  });
}

function foreignAttr(element, uri, name) {
  const attrs = (element && element.$attrs) || {};
  const key = Object.keys(attrs).find((k) => {
    const colon = k.indexOf(":");
    return colon > 0 && k.slice(colon + 1) === name && namespaceOf(element, k.slice(0, colon)) === uri;
  });
  return key === undefined ? undefined : attrs[key];
}

// Camunda 7 and Camunda 8 markup that the server rewrites into its own dialect, or refuses,
// before the checks these rules mirror (engine/foreign): the rules leave what it could change
// to the server.

// A form written for Camunda (engine/foreign/user_tasks.py, _foreign_form).
export function foreignForm(element) {
  return Boolean(foreignExtensions(element, ZEEBE, "formDefinition").length
    || foreignExtensions(element, CAMUNDA, "formData").length
    || foreignAttr(element, CAMUNDA, "formRef") || foreignAttr(element, CAMUNDA, "formKey"));
}

// Candidate groups written for Camunda, which move a user task into a lane (_groups).
export function foreignGroups(element) {
  return Boolean(foreignExtensions(element, ZEEBE, "assignmentDefinition")
    .some((definition) => definition.candidateGroups)
    || foreignAttr(element, CAMUNDA, "candidateGroups"));
}

// A task run by Camunda's workers or Java code (engine/foreign/service_tasks.py): made a
// service task calling the named operation, or refused.
export function foreignService(element) {
  return Boolean(["class", "delegateExpression", "expression", "decisionRef"]
    .some((name) => foreignAttr(element, CAMUNDA, name))
    || foreignExtensions(element, CAMUNDA, "connector").length
    || foreignExtensions(element, ZEEBE, "calledDecision").length
    || foreignAttr(element, CAMUNDA, "type") === "external"
    || foreignExtensions(element, ZEEBE, "taskDefinition").length);
}

// The element the server names for a node: its nearest ancestor with an id, skipping event
// definitions (engine.validation._element_of).
export function elementOf(node) {
  let at = node;
  while (at && (at.id === undefined || at.id === null || local(at).endsWith("EventDefinition"))) {
    at = at.$parent;
  }
  return at;
}
