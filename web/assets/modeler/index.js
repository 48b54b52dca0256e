// The analysts' modeler page: bpmn-js's Modeler with bpmn.io's properties panel (our
// provider, ./properties.js, for what the engine reads), bpmnlint with our executability rules
// (./linting.js, marking problems while drawing), token simulation to click through paths,
// and the page's own duties: the server's validation marked on the diagram (the server is the
// authority), download, and deployment of the edited XML.
//
// Markup (model_edit.html): #modeler (data-src: the XML to open, none for a new diagram),
// #properties (the panel), #check (the server's answer), #validate, #download, #simulate,
// #deploy-form with csrf_token, file_name and #deploy-xml; options in #modeler-options.
import BpmnModeler from "bpmn-js/lib/Modeler";
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from "bpmn-js-properties-panel";
import lintModule from "bpmn-js-bpmnlint";
import TokenSimulationModule from "bpmn-js-token-simulation";

import "bpmn-js/dist/assets/diagram-js.css";
import "bpmn-js/dist/assets/bpmn-js.css";
import "bpmn-js/dist/assets/bpmn-font/css/bpmn-embedded.css";
import "@bpmn-io/properties-panel/dist/assets/properties-panel.css";
import "bpmn-js-bpmnlint/dist/assets/css/bpmn-js-bpmnlint.css";
import "bpmn-js-token-simulation/assets/css/bpmn-js-token-simulation.css";

import spiffworkflow from "../../static/spiffworkflow.json";
import CqpiPropertiesModule from "./properties.js";
import { lintConfig } from "./linting.js";
import translations from "./translate.js";
import { applyDeferredStyles, escape, withoutInlineStyles } from "./util.js";

const BLANK = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Definitions_new" targetNamespace="http://cqpi.example/bpmn">
<bpmn:process id="new_process" name="新流程" isExecutable="true"><bpmn:startEvent id="Event_Start" name="开始"/></bpmn:process>
<bpmndi:BPMNDiagram id="Diagram_new"><bpmndi:BPMNPlane id="Plane_new" bpmnElement="new_process">
<bpmndi:BPMNShape id="Event_Start_di" bpmnElement="Event_Start"><dc:Bounds x="180" y="160" width="36" height="36"/></bpmndi:BPMNShape>
</bpmndi:BPMNPlane></bpmndi:BPMNDiagram></bpmn:definitions>`;

// The properties panel's groups shown open: what the engine reads.
const OPEN_GROUPS = ["general", "cqpi", "cqpi-parameters", "timer", "message"];

function page() {
  const holder = document.getElementById("modeler");
  if (!holder) { return; }
  const check = document.getElementById("check");
  const deployForm = document.getElementById("deploy-form");
  const options = JSON.parse(document.getElementById("modeler-options").textContent);
  applyDeferredStyles(holder);
  const modeler = new BpmnModeler({
    container: holder,
    propertiesPanel: {
      parent: "#properties",
      layout: { groups: Object.fromEntries(OPEN_GROUPS.map((id) => [id, { open: true }])) },
    },
    linting: { bpmnlint: lintConfig(options), active: true },  // options: read at each lint
    cqpi: options,
    // a change reaches the diagram as it is typed: a debounced one could miss a deploy
    // clicked at once after it
    debounceInput: false,
    moddleExtensions: { spiffworkflow },
    additionalModules: [
      BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, CqpiPropertiesModule,
      lintModule, TokenSimulationModule, translations,
    ],
  });
  window.cqpiModeler = modeler;
  withoutInlineStyles(modeler);
  let marked = [];

  function mark(problems) {
    const canvas = modeler.get("canvas");
    const registry = modeler.get("elementRegistry");
    const overlays = modeler.get("overlays");
    marked.forEach((id) => { if (registry.get(id)) { canvas.removeMarker(id, "cqpi-problem"); } });
    overlays.remove({ type: "problem" });
    const byElement = {};
    problems.forEach((p) => {
      if (p.element_id) { (byElement[p.element_id] = byElement[p.element_id] || []).push(p.message); }
    });
    marked = Object.keys(byElement).filter((id) => registry.get(id));
    marked.forEach((id) => {
      canvas.addMarker(id, "cqpi-problem");
      overlays.add(id, "problem", {
        position: { top: -28, left: 0 },
        html: `<div class="problem-badge" title="${escape(byElement[id].join("\n"))}">⚠ ${byElement[id].length}</div>`,
      });
    });
  }

  function xml() { return modeler.saveXML({ format: true }).then((r) => r.xml); }

  function field(name) { return deployForm.querySelector(`input[name=${name}]`).value; }

  function validate() {
    return xml().then((text) => {
      const body = new FormData(deployForm);  // the token, the base version, attached forms
      body.set("xml", text);
      return fetch(options.validate_url, { method: "POST", body, credentials: "same-origin" });
    }).then((r) => r.json()).then((answer) => {
      mark(answer.problems);
      check.innerHTML = answer.problems.length
        ? `<h2>校验未通过：${answer.problems.length} 个问题</h2><ul class="problems">` +
          answer.problems.map((p) => `<li class="error">${escape(p.text)}</li>`).join("") + "</ul>"
        : "<h2 id=\"valid\">校验通过，可以部署</h2>";
      return answer.problems;
    });
  }

  const src = holder.getAttribute("data-src");
  (src ? fetch(src, { credentials: "same-origin" }).then((r) => r.text()) : Promise.resolve(BLANK))
    .then((text) => modeler.importXML(text))
    .then(() => {
      modeler.get("canvas").zoom("fit-viewport");
      holder.setAttribute("data-ready", "true");
    })
    .catch((err) => { holder.textContent = "流程图无法打开：" + err.message; });

  document.getElementById("validate").addEventListener("click", validate);
  document.getElementById("attach").addEventListener("change", (e) => attach(e.target.files));

  // Forms attached to the deployment: their ids and file names become choices of 表单.
  function attach(files) {
    const reads = Array.from(files).map((file) => file.text().then((text) => {
      let id = null;
      try { id = JSON.parse(text).id; } catch (err) { id = null; }
      return [file.name, typeof id === "string" ? id : null];
    }));
    Promise.all(reads).then((named) => {
      named.forEach(([name, id]) => [id, name].forEach((key) => {
        if (key && !options.form_keys.includes(key)) { options.form_keys.push(key); }
      }));
      document.getElementById("attached-now").textContent = named.length
        ? "已附加：" + named.map(([name]) => name).join("、") : "";
      modeler.get("eventBus").fire("elements.changed", { elements: [] });
    });
  }
  const simulate = document.getElementById("simulate");
  const toggleMode = modeler.get("toggleMode");
  simulate.addEventListener("click", () => toggleMode.toggleMode());
  modeler.get("eventBus").on("tokenSimulation.toggleMode", ({ active }) => {
    simulate.setAttribute("aria-pressed", String(active));
    simulate.textContent = active ? "结束模拟" : "模拟运行";
    holder.classList.toggle("simulating", active);
    if (active) { nearStart(); }
  });

  // The simulation's buttons show from a readable zoom on: start near the first start event.
  function nearStart() {
    const canvas = modeler.get("canvas");
    if (canvas.zoom() >= 0.7) { return; }
    const start = modeler.get("elementRegistry").find((e) => e.type === "bpmn:StartEvent" && !e.labelTarget);
    canvas.zoom(1);
    if (start) { canvas.scrollToElement(start, { top: 120, left: 120, right: 120, bottom: 120 }); }
  }
  document.getElementById("download").addEventListener("click", () => {
    xml().then((text) => {
      const link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([text], { type: "application/xml" }));
      link.download = field("file_name");
      link.click();
    });
  });
  deployForm.addEventListener("submit", (e) => {
    if (deployForm.getAttribute("data-ready") === "true") { return; }
    e.preventDefault();
    validate().then((found) => {
      if (found.length) { return; }
      return xml().then((text) => {
        document.getElementById("deploy-xml").value = text;
        deployForm.setAttribute("data-ready", "true");
        deployForm.submit();
      });
    });
  });
}

page();
