// The analysts' modeler: bpmn-js (from node_modules) with a small properties panel for what
// cqpi's engine reads (spiffworkflow extension elements), validation marked on the diagram,
// and deployment of the edited XML.
(function () {
  "use strict";
  var holder = document.getElementById("modeler");
  var panel = document.getElementById("properties");
  var check = document.getElementById("check");
  if (!holder) { return; }
  if (!window.BpmnJS) {
    holder.textContent = "流程建模器未安装（运行 make install 以安装 bpmn-js）。可在“上传 BPMN 文件”页面上传在其他工具中制作的文件。";
    return;
  }
  var options = JSON.parse(document.getElementById("modeler-options").textContent);
  var SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core";
  var BLANK = '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" ' +
    'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" ' +
    'xmlns:spiffworkflow="' + SPIFF + '" id="Definitions_new" targetNamespace="http://cqpi.example/bpmn">' +
    '<bpmn:process id="new_process" name="新流程" isExecutable="true">' +
    '<bpmn:startEvent id="Event_Start" name="开始"/></bpmn:process>' +
    '<bpmndi:BPMNDiagram id="Diagram_new"><bpmndi:BPMNPlane id="Plane_new" bpmnElement="new_process">' +
    '<bpmndi:BPMNShape id="Event_Start_di" bpmnElement="Event_Start"><dc:Bounds x="180" y="160" width="36" height="36"/>' +
    '</bpmndi:BPMNShape></bpmndi:BPMNPlane></bpmndi:BPMNDiagram></bpmn:definitions>';
  var modeler, moddle, modeling, selected = null, problems = {};

  function escape(text) {
    return String(text == null ? "" : text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" }[c];
    });
  }

  function values(bo) { return (bo.extensionElements && bo.extensionElements.values) || []; }
  function find(bo, type) { return values(bo).filter(function (v) { return v.$type === type; })[0]; }

  function extensions(bo) {
    var ext = bo.extensionElements;
    if (!ext) { ext = moddle.create("bpmn:ExtensionElements", { values: [] }); ext.$parent = bo; }
    return ext;
  }

  function property(bo, name) {
    var props = find(bo, "spiffworkflow:Properties");
    var hit = props && (props.properties || []).filter(function (p) { return p.name === name; })[0];
    return hit ? hit.value : "";
  }

  function setProperty(element, name, value) {
    var bo = element.businessObject, ext = extensions(bo);
    var props = find(bo, "spiffworkflow:Properties");
    if (!props) {
      props = moddle.create("spiffworkflow:Properties", { properties: [] });
      ext.get("values").push(props);
    }
    var list = props.get("properties");
    var hit = list.filter(function (p) { return p.name === name; })[0];
    if (hit && !value) { list.splice(list.indexOf(hit), 1); }
    else if (hit) { hit.value = value; }
    else if (value) { list.push(moddle.create("spiffworkflow:Property", { name: name, value: value })); }
    modeling.updateProperties(element, { extensionElements: ext });
  }

  function operator(bo) { return find(bo, "spiffworkflow:ServiceTaskOperator"); }

  function setOperator(element, id, parameters) {
    var bo = element.businessObject, ext = extensions(bo), op = operator(bo);
    if (!op) { op = moddle.create("spiffworkflow:ServiceTaskOperator", {}); ext.get("values").push(op); }
    op.id = id;
    op.parameterList = moddle.create("spiffworkflow:Parameters", {
      parameters: parameters.filter(function (p) { return p.id; }).map(function (p) {
        return moddle.create("spiffworkflow:Parameter", { id: p.id, type: "any", value: p.value });
      })
    });
    modeling.updateProperties(element, { extensionElements: ext });
  }

  var KINDS = {
    "bpmn:UserTask": "用户任务", "bpmn:ServiceTask": "服务任务", "bpmn:ScriptTask": "脚本任务",
    "bpmn:CallActivity": "调用活动", "bpmn:SubProcess": "子流程", "bpmn:SequenceFlow": "顺序流",
    "bpmn:ExclusiveGateway": "排他网关", "bpmn:ParallelGateway": "并行网关",
    "bpmn:InclusiveGateway": "包容网关", "bpmn:EventBasedGateway": "事件网关",
    "bpmn:StartEvent": "开始事件", "bpmn:EndEvent": "结束事件",
    "bpmn:IntermediateCatchEvent": "中间捕获事件", "bpmn:IntermediateThrowEvent": "中间抛出事件",
    "bpmn:BoundaryEvent": "边界事件", "bpmn:Lane": "泳道", "bpmn:Participant": "参与者",
    "bpmn:Task": "任务", "bpmn:TextAnnotation": "注释"
  };

  function eventDefinition(bo, type) {
    return (bo.eventDefinitions || []).filter(function (d) { return d.$type === type; })[0];
  }

  var TIMER_KINDS = [
    ["timeDuration", "等待一段时长（如 \"PT1H\"）"],
    ["timeDate", "到某一时刻（如 publicity_closes_at）"],
    ["timeCycle", "按周期（如 \"R3/PT1H\"）"]
  ];

  function timerFields(timer) {
    var kind = TIMER_KINDS.filter(function (k) { return timer[k[0]]; })[0] || TIMER_KINDS[0];
    var current = timer[kind[0]] ? timer[kind[0]].body : "";
    return "<div class=\"field\"><label for=\"p-timer-kind\">定时方式</label><select id=\"p-timer-kind\">" +
      TIMER_KINDS.map(function (k) {
        return "<option value=\"" + k[0] + "\"" + (k === kind ? " selected" : "") + ">" + escape(k[1]) + "</option>";
      }).join("") + "</select></div>" + field("定时表达式（字符串加引号；也可写变量名）", "p-timer", current);
  }

  function messages() {
    return (modeler.getDefinitions().get("rootElements") || []).filter(function (e) {
      return e.$type === "bpmn:Message";
    });
  }

  function messageFields(definition) {
    var current = definition.messageRef ? definition.messageRef.name || "" : "";
    return "<div class=\"field\"><label for=\"p-message\">消息名称（按业务键送达）</label>" +
      "<input id=\"p-message\" list=\"p-messages\" value=\"" + escape(current) + "\">" +
      "<datalist id=\"p-messages\">" + options.messages.map(function (name) {
        return "<option value=\"" + escape(name) + "\">";
      }).join("") + "</datalist></div>";
  }

  function messageNamed(name) {
    if (!name) { return undefined; }
    var hit = messages().filter(function (m) { return m.name === name; })[0];
    if (hit) { return hit; }
    var definitions = modeler.getDefinitions();
    var created = moddle.create("bpmn:Message", {
      id: "Message_" + Math.random().toString(36).slice(2, 10), name: name
    });
    created.$parent = definitions;
    definitions.get("rootElements").push(created);
    return created;
  }

  function pruneMessages() {
    // a message no element refers to any more (renamed away) leaves the file
    var used = [];
    modeler.get("elementRegistry").getAll().forEach(function (element) {
      var bo = element.businessObject || {};
      if (bo.messageRef) { used.push(bo.messageRef); }
      (bo.eventDefinitions || []).forEach(function (d) { if (d.messageRef) { used.push(d.messageRef); } });
    });
    var roots = modeler.getDefinitions().get("rootElements");
    messages().forEach(function (m) {
      if (used.indexOf(m) < 0) { roots.splice(roots.indexOf(m), 1); }
    });
  }

  function field(label, id, value, kind, choices) {
    var control;
    if (choices) {
      control = "<select id=\"" + id + "\"><option value=\"\">（无）</option>" + choices.map(function (c) {
        return "<option" + (c === value ? " selected" : "") + ">" + escape(c) + "</option>";
      }).join("") + "</select>";
    } else if (kind === "textarea") {
      control = "<textarea id=\"" + id + "\" rows=\"3\">" + escape(value) + "</textarea>";
    } else {
      control = "<input id=\"" + id + "\" value=\"" + escape(value) + "\">";
    }
    return "<div class=\"field\"><label for=\"" + id + "\">" + label + "</label>" + control + "</div>";
  }

  function show(element) {
    selected = element;
    if (!element || !element.businessObject || element.type === "label") {
      panel.innerHTML = "<p class=\"hint\">选中一个环节以编辑其属性。</p>";
      return;
    }
    var bo = element.businessObject, type = element.type, html = [];
    html.push("<h3>" + escape(KINDS[type] || type.replace("bpmn:", "")) + " <small>" + escape(element.id) + "</small></h3>");
    (problems[element.id] || []).forEach(function (p) { html.push("<p class=\"error\">" + escape(p) + "</p>"); });
    html.push(field(type === "bpmn:Lane" ? "泳道名称（候选组）" : "名称", "p-name", bo.name || "", "text",
      type === "bpmn:Lane" ? null : null));
    if (type === "bpmn:Lane") {
      html.push("<p class=\"hint\">候选组：" + options.groups.map(escape).join("、") + "</p>");
    }
    if (type === "bpmn:UserTask") {
      html.push(field("表单", "p-formKey", property(bo, "formKey"), "text", options.form_keys));
      html.push(field("办理范围（表达式，如 scope）", "p-scope", property(bo, "scope")));
      html.push(field("办理期限（ISO 8601，如 P5D）", "p-dueIn", property(bo, "dueIn")));
    }
    if (type === "bpmn:ServiceTask") {
      var op = operator(bo) || {};
      var params = (op.parameterList && op.parameterList.parameters) || [];
      html.push(field("服务操作", "p-operator", op.id || "", "text", options.operations));
      html.push("<table><thead><tr><th>参数</th><th>值（表达式）</th></tr></thead><tbody id=\"p-params\">" +
        params.concat([{ id: "", value: "" }]).map(function (p, i) {
          return "<tr><td><input aria-label=\"参数名 " + (i + 1) + "\" class=\"param-id\" value=\"" + escape(p.id) + "\"></td>" +
            "<td><input aria-label=\"参数值 " + (i + 1) + "\" class=\"param-value\" value=\"" + escape(p.value) + "\"></td></tr>";
        }).join("") + "</tbody></table>");
    }
    var timer = eventDefinition(bo, "bpmn:TimerEventDefinition");
    if (timer) { html.push(timerFields(timer)); }
    var message = eventDefinition(bo, "bpmn:MessageEventDefinition");
    if (message) { html.push(messageFields(message)); }
    if (type === "bpmn:SequenceFlow") {
      var cond = bo.conditionExpression ? bo.conditionExpression.body : "";
      html.push(field("分支条件（表达式；默认分支留空）", "p-condition", cond, "textarea"));
    }
    html.push("<button type=\"button\" id=\"p-apply\" class=\"primary\">应用</button>");
    panel.innerHTML = html.join("");
    document.getElementById("p-apply").addEventListener("click", apply);
  }

  function value(id) { var node = document.getElementById(id); return node ? node.value.trim() : null; }

  function apply() {
    var element = selected;
    if (!element) { return; }
    var name = value("p-name");
    if (name !== null && name !== (element.businessObject.name || "")) {
      modeling.updateProperties(element, { name: name });
    }
    if (element.type === "bpmn:UserTask") {
      ["formKey", "scope", "dueIn"].forEach(function (key) { setProperty(element, key, value("p-" + key)); });
    }
    if (element.type === "bpmn:ServiceTask") {
      var rows = Array.prototype.map.call(document.querySelectorAll("#p-params tr"), function (tr) {
        return { id: tr.querySelector(".param-id").value.trim(), value: tr.querySelector(".param-value").value.trim() };
      });
      setOperator(element, value("p-operator"), rows);
    }
    var timer = eventDefinition(element.businessObject, "bpmn:TimerEventDefinition");
    if (timer) {
      var expression = value("p-timer"), change = { timeDuration: undefined, timeDate: undefined, timeCycle: undefined };
      if (expression) { change[value("p-timer-kind")] = moddle.create("bpmn:FormalExpression", { body: expression }); }
      modeling.updateModdleProperties(element, timer, change);
    }
    var message = eventDefinition(element.businessObject, "bpmn:MessageEventDefinition");
    if (message) {
      modeling.updateModdleProperties(element, message, { messageRef: messageNamed(value("p-message")) });
      pruneMessages();
    }
    if (element.type === "bpmn:SequenceFlow") {
      var text = value("p-condition");
      modeling.updateProperties(element, {
        conditionExpression: text ? moddle.create("bpmn:FormalExpression", { body: text }) : undefined
      });
    }
    show(element);
  }

  function mark(list) {
    var canvas = modeler.get("canvas"), registry = modeler.get("elementRegistry");
    Object.keys(problems).forEach(function (id) { if (registry.get(id)) { canvas.removeMarker(id, "cqpi-problem"); } });
    modeler.get("overlays").remove({ type: "problem" });
    problems = {};
    list.forEach(function (p) { if (p.element_id) { (problems[p.element_id] = problems[p.element_id] || []).push(p.message); } });
    Object.keys(problems).forEach(function (id) {
      if (!registry.get(id)) { return; }
      canvas.addMarker(id, "cqpi-problem");
      modeler.get("overlays").add(id, "problem", { position: { top: -28, left: 0 },
        html: "<div class=\"problem-badge\" title=\"" + escape(problems[id].join("\n")) + "\">⚠ " + problems[id].length + "</div>" });
    });
  }

  // bpmn-js draws its align and distribute icons with style="" attributes, which the pages'
  // Content-Security-Policy refuses (style-src 'self'): give them the same declarations as
  // SVG presentation attributes, in providers that run after bpmn-js's own.
  function presentational(html) {
    return html.replace(/style="([^"]*)"/g, function (all, css) {
      return css.split(";").filter(function (d) { return d.indexOf(":") > 0; }).map(function (d) {
        var colon = d.indexOf(":");
        return d.slice(0, colon).trim() + "=\"" + d.slice(colon + 1).trim() + "\"";
      }).join(" ");
    });
  }

  function restyled(key) {
    return function () {
      return function (entries) {
        Object.keys(entries).forEach(function (id) {
          if (typeof entries[id][key] === "string") {
            entries[id] = Object.assign({}, entries[id]);
            entries[id][key] = presentational(entries[id][key]);
          }
        });
        return entries;
      };
    };
  }

  function withoutInlineStyles() {
    var LAST = 1;
    modeler.get("contextPad").registerProvider(LAST, {
      getContextPadEntries: restyled("html"), getMultiElementContextPadEntries: restyled("html") });
    modeler.get("popupMenu").registerProvider("align-elements", LAST,
      { getPopupMenuEntries: restyled("imageHtml") });
  }

  function xml() { return modeler.saveXML({ format: true }).then(function (r) { return r.xml; }); }

  function validate() {
    return xml().then(function (text) {
      var body = new FormData();
      body.append("csrf_token", document.querySelector("#deploy-form input[name=csrf_token]").value);
      body.append("file_name", document.querySelector("#deploy-form input[name=file_name]").value);
      body.append("xml", text);
      return fetch(options.validate_url, { method: "POST", body: body, credentials: "same-origin" });
    }).then(function (r) { return r.json(); }).then(function (answer) {
      mark(answer.problems);
      check.innerHTML = answer.problems.length
        ? "<h2>校验未通过：" + answer.problems.length + " 个问题</h2><ul class=\"problems\">" +
          answer.problems.map(function (p) { return "<li class=\"error\">" + escape(p.text) + "</li>"; }).join("") + "</ul>"
        : "<h2 id=\"valid\">校验通过，可以部署</h2>";
      if (selected) { show(selected); }
      return answer.problems;
    });
  }

  function start(text) {
    return modeler.importXML(text).then(function () {
      modeler.get("canvas").zoom("fit-viewport");
      modeler.get("eventBus").on("selection.changed", function (e) { show(e.newSelection[0] || null); });
      holder.setAttribute("data-ready", "true");
    });
  }

  fetch(options.moddle_url).then(function (r) { return r.json(); }).then(function (descriptor) {
    modeler = new window.BpmnJS({ container: holder, moddleExtensions: { spiffworkflow: descriptor } });
    window.cqpiModeler = modeler;
    withoutInlineStyles();
    moddle = modeler.get("moddle");
    modeling = modeler.get("modeling");
    var src = holder.getAttribute("data-src");
    return src ? fetch(src, { credentials: "same-origin" }).then(function (r) { return r.text(); }) : BLANK;
  }).then(start).catch(function (err) { holder.textContent = "流程图无法打开：" + err.message; });

  document.getElementById("validate").addEventListener("click", validate);
  document.getElementById("download").addEventListener("click", function () {
    xml().then(function (text) {
      var link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([text], { type: "application/xml" }));
      link.download = document.querySelector("#deploy-form input[name=file_name]").value;
      link.click();
    });
  });
  document.getElementById("deploy-form").addEventListener("submit", function (e) {
    var form = e.target;
    if (form.getAttribute("data-ready") === "true") { return; }
    e.preventDefault();
    validate().then(function (found) {
      if (found.length) { return; }
      return xml().then(function (text) {
        document.getElementById("deploy-xml").value = text;
        form.setAttribute("data-ready", "true");
        form.submit();
      });
    });
  });
})();
