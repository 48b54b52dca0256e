// The version diff drawn on the diagrams (model_diff.html): bpmn-js-differ compares the two
// versions' definitions; added, removed, changed and moved elements are marked on each side.
//
// Markup: #differ (data-old-src, data-new-src: the two versions' XML) holding #diagram-old,
// #diagram-new, the legend's counts ([data-count=KIND]) and #differ-status; #changes, the
// server's table of changes (engine.diff), rows with data-element-id; #differ-changes, the
// same changes as JSON (their Chinese details title the badges).
//
// The differ compares what bpmn-moddle reads, the spiffworkflow extension included (a changed
// form key or operation marks its task). The server compares what the engine reads, which
// the differ cannot see in a few places (a lane's members are references, which it skips):
// an element the server lists as changed is marked so too, so that each row of the table has
// its mark on the diagrams. Both viewers show the same viewbox: zooming or scrolling one
// moves the other; choosing a row, or an element, selects it on both sides.
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";
import OutlineModule from "bpmn-js/lib/features/outline";
import { ChangeHandler, diff } from "bpmn-js-differ";

import "bpmn-js/dist/assets/diagram-js.css";
import "bpmn-js/dist/assets/bpmn-js.css";
import "bpmn-js/dist/assets/bpmn-font/css/bpmn-embedded.css";

import spiffworkflow from "../static/spiffworkflow.json";
import { escape } from "./modeler/util.js";

const KINDS = { added: "新增", removed: "删除", changed: "修改", moved: "移动" };
/** Which kinds each side shows (an added element is only on the new one). */
const SIDES = { old: ["removed", "changed", "moved"], new: ["added", "changed", "moved"] };

const PROPERTY_LABELS = {
  name: "名称", extensionElements: "扩展属性（表单、办理范围、期限、服务操作等）",
  documentation: "说明", sourceRef: "起点", targetRef: "终点", default: "默认分支",
  conditionExpression: "条件", calledElement: "调用流程", eventDefinitions: "事件定义",
  attachedToRef: "附着于", cancelActivity: "中断", script: "脚本", $type: "类型",
  "processRef.name": "流程名称",
};
const FIT_PADDING = 24;

/** bpmn-js-differ's handler, also noting which properties of each element changed. */
class Recorder extends ChangeHandler {
  constructor() {
    super();
    this.properties = {};
  }

  changed(model, property, newValue, oldValue) {
    super.changed(model, property, newValue, oldValue);
    const tracked = this._isTracked(model);
    if (tracked) {
      const id = this._computeChangeId(tracked.element);
      (this.properties[id] = this.properties[id] || new Set())
        .add((tracked.property + property).replace(/\[\d+\]$/, ""));
    }
  }
}

/** What changed, as {id: {kind, title}}, from the differ and the server's table. */
function compare(oldViewer, newViewer, listed) {
  const found = diff(oldViewer.getDefinitions(), newViewer.getDefinitions(), new Recorder());
  const details = {};
  listed.forEach((c) => { details[c.element_id] = c.details || []; });
  const changes = {};
  const put = (id, kind, title) => { if (!changes[id]) { changes[id] = { kind, title }; } };
  Object.keys(found._added).forEach((id) => put(id, "added", "新版本新增的元素"));
  Object.keys(found._removed).forEach((id) => put(id, "removed", "新版本删除的元素"));
  Object.keys(found._changed).forEach((id) => {
    const told = details[id] && details[id].length ? details[id] : null;
    const names = Array.from(found.properties[id] || [], (p) => PROPERTY_LABELS[p] || p);
    put(id, "changed", told ? told.join("\n") : "修改：" + (names.join("、") || "属性"));
  });
  listed.forEach((c) => {
    if (c.kind === "changed") { put(c.element_id, "changed", (c.details || []).join("\n")); }
  });
  Object.keys(found._layoutChanged).forEach((id) => put(id, "moved", "仅图形位置或连线走向改变"));
  return changes;
}

function mark(viewer, side, changes) {
  const canvas = viewer.get("canvas");
  const registry = viewer.get("elementRegistry");
  const overlays = viewer.get("overlays");
  const root = canvas.getRootElement();
  const marked = {};
  Object.keys(changes).forEach((id) => {
    const { kind, title } = changes[id];
    const element = registry.get(id);
    if (!element || element === root || SIDES[side].indexOf(kind) < 0) { return; }
    canvas.addMarker(element, "diff-" + kind);
    if (isContainer(element)) { canvas.addMarker(element, "diff-container"); }
    overlays.add(element, "diff", {
      position: badgeAt(element),
      html: `<span class="diff-badge diff-badge-${kind}" title="${escape(title)}">` +
        `${KINDS[kind]}</span>`,
    });
    marked[id] = kind;
  });
  return marked;
}

/** Where an element's badge goes: a shape's top right corner; above the middle of a
 * connection's longest segment (its bounding box's corner may be far from the line). */
function badgeAt(element) {
  const points = element.waypoints;
  if (!points || points.length < 2) { return { top: -12, right: 12 }; }
  let [a, b] = points;
  const length = (p, q) => Math.abs(q.x - p.x) + Math.abs(q.y - p.y);
  points.slice(1).forEach((q, i) => {
    if (length(points[i], q) > length(a, b)) { [a, b] = [points[i], q]; }
  });
  return {
    left: (a.x + b.x) / 2 - Math.min(...points.map((p) => p.x)) - 16,
    top: (a.y + b.y) / 2 - Math.min(...points.map((p) => p.y)) - 22,
  };
}

/** A lane, a pool or an expanded subprocess: marked by its border, its inside left clear. */
function isContainer(element) {
  const bo = element.businessObject;
  return bo.$instanceOf("bpmn:Lane") || bo.$instanceOf("bpmn:Participant") ||
    (bo.$instanceOf("bpmn:SubProcess") && !element.collapsed);
}

/** Both diagrams whole in the same viewbox, centred (never zoomed in past 100%). */
function fit(viewers) {
  const boxes = viewers.map((v) => v.get("canvas").viewbox().inner)
    .filter((b) => b.width || b.height);
  if (!boxes.length) { return; }
  const left = Math.min(...boxes.map((b) => b.x)) - FIT_PADDING;
  const top = Math.min(...boxes.map((b) => b.y)) - FIT_PADDING;
  const right = Math.max(...boxes.map((b) => b.x + b.width)) + FIT_PADDING;
  const bottom = Math.max(...boxes.map((b) => b.y + b.height)) + FIT_PADDING;
  const outer = viewers[0].get("canvas").viewbox().outer;
  const scale = Math.min(1, outer.width / (right - left), outer.height / (bottom - top));
  const width = outer.width / scale;
  const height = outer.height / scale;
  viewers[0].get("canvas").viewbox({
    x: (left + right - width) / 2, y: (top + bottom - height) / 2, width, height,
  });
}

/** Whatever viewbox one viewer gets (zoom, scroll, fit), the other gets too. */
function synchronise(viewers) {
  let busy = false;
  viewers.forEach((from) => {
    from.get("eventBus").on("canvas.viewbox.changed", ({ viewbox }) => {
      if (busy) { return; }
      busy = true;
      try {
        const { x, y, width, height } = viewbox;
        viewers.filter((v) => v !== from)
          .forEach((to) => to.get("canvas").viewbox({ x, y, width, height }));
      } finally {
        busy = false;
      }
    });
  });
}

/** Put ``element`` in the middle of the viewbox, zoomed in to 100% if the view is smaller. */
function centre(viewer, element) {
  const canvas = viewer.get("canvas");
  const box = canvas.viewbox();
  const scale = Math.max(box.scale, 1);
  const width = box.outer.width / scale;
  const height = box.outer.height / scale;
  const points = element.waypoints || [
    { x: element.x, y: element.y },
    { x: element.x + element.width, y: element.y + element.height }];
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  canvas.viewbox({
    x: (Math.min(...xs) + Math.max(...xs) - width) / 2,
    y: (Math.min(...ys) + Math.max(...ys) - height) / 2,
    width, height,
  });
}

/** bpmn-js makes its <svg> focusable (keyboard zoom and scroll); a focusable element inside
 * the container's role="img" would be hidden from screen readers, so the container's name
 * moves onto the svg, where the keyboard lands. */
function nameCanvas(holder) {
  const svg = holder.querySelector("svg[tabindex]");
  if (!svg || holder.getAttribute("role") !== "img") { return; }
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", holder.getAttribute("aria-label"));
  holder.removeAttribute("role");
  holder.removeAttribute("aria-label");
}

function load(viewer, src) {
  return fetch(src, { credentials: "same-origin" })
    .then((r) => { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.text(); })
    .then((xml) => viewer.importXML(xml));
}

function page() {
  const holder = document.getElementById("differ");
  if (!holder) { return; }
  const status = document.getElementById("differ-status");
  const listed = JSON.parse(document.getElementById("differ-changes").textContent);
  const rows = Array.from(document.querySelectorAll("#changes tr[data-element-id]"));
  // the viewer draws no outline around a selected element: the modeler's does
  const options = { moddleExtensions: { spiffworkflow }, additionalModules: [OutlineModule] };
  const sides = {
    old: new NavigatedViewer(Object.assign({ container: "#diagram-old" }, options)),
    new: new NavigatedViewer(Object.assign({ container: "#diagram-new" }, options)),
  };
  const viewers = [sides.old, sides.new];

  function choose(id, { move = true } = {}) {
    const found = viewers.map((v) => v.get("elementRegistry").get(id));
    viewers.forEach((v, i) => v.get("selection").select(found[i] || null));
    rows.forEach((row) => {
      const current = row.getAttribute("data-element-id") === id;
      row.classList.toggle("diff-current", current);
      if (current) {
        row.setAttribute("aria-current", "true");
      } else {
        row.removeAttribute("aria-current");
      }
    });
    const shown = found[1] ? 1 : 0;
    if (move && found[shown]) { centre(viewers[shown], found[shown]); }
  }

  Promise.all([load(sides.old, holder.getAttribute("data-old-src")),
    load(sides.new, holder.getAttribute("data-new-src"))])
    .then(() => {
      const changes = compare(sides.old, sides.new, listed);
      const marked = Object.assign(mark(sides.old, "old", changes),
        mark(sides.new, "new", changes));
      Object.keys(KINDS).forEach((kind) => {
        const count = Object.keys(marked).filter((id) => marked[id] === kind).length;
        holder.querySelectorAll(`[data-count=${kind}]`)
          .forEach((n) => { n.textContent = String(count); });
      });
      synchronise(viewers);
      fit(viewers);
      ["diagram-old", "diagram-new"].forEach((id) => nameCanvas(document.getElementById(id)));
      viewers.forEach((v) => v.get("eventBus").on("element.click", (e) => {
        const element = e.element.labelTarget || e.element;
        const root = element === v.get("canvas").getRootElement();
        choose(root ? null : element.id, { move: false });
      }));
      rows.forEach((row) => {
        const id = row.getAttribute("data-element-id");
        row.addEventListener("click", () => choose(id));
        row.addEventListener("keydown", (e) => {
          if (e.key === "Enter" || e.key === " ") { e.preventDefault(); choose(id); }
        });
      });
      status.textContent = Object.keys(marked).length
        ? "点击下表中的一行或图中的元素，两侧同时选中该元素；缩放、拖动任一侧，另一侧同步。"
        : "两个版本的流程图没有区别。";
      holder.setAttribute("data-ready", "true");
    })
    .catch((err) => {
      status.textContent = /no diagram to display/.test(err.message)
        ? "流程图没有图形信息（BPMN DI），无法对比显示，请参阅下方的变化列表。"
        : "流程图无法显示：" + err.message;
      status.classList.add("error");
    });
}

page();
