// Draws a BPMN diagram with bpmn-js (from node_modules, see package.json), marks where an
// instance stands, and shows an element's events when it is clicked. Without the viewer the
// page's text lists say the same.
(function () {
  "use strict";
  var holder = document.getElementById("diagram");
  if (!holder) { return; }
  if (!window.BpmnJS) {
    holder.textContent = "流程图查看器未安装（运行 make install 以安装 bpmn-js），请参阅下方文字信息。";
    return;
  }
  function json(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : {};
  }
  var marks = json("diagram-marks");
  var details = json("diagram-details");
  var called = json("diagram-called"); // call activity id -> the view of the process it called
  var titles = { completed: "已完成", active: "待办理", waiting: "等待中", failed: "故障", error: "出错",
    problem: "有问题" };
  var viewer = new window.BpmnJS({ container: holder });
  var info = document.getElementById("element-info");

  function show(element) {
    if (!info || !element || !element.businessObject) { return; }
    var bo = element.businessObject;
    var events = details[element.id] || [];
    var lines = ["<h3>" + escape(bo.name || element.id) + " <small>" + escape(element.id) + "</small></h3>"];
    if (marks[element.id]) { lines.push("<p>状态：" + titles[marks[element.id]] + "</p>"); }
    if (called[element.id]) {
      lines.push("<p><a class=\"called-link\" href=\"" + escape(called[element.id]) + "\">查看该调用活动调用的流程</a></p>");
    }
    if (!events.length) { lines.push("<p class=\"hint\">该环节没有记录。</p>"); }
    events.forEach(function (e) {
      lines.push("<div class=\"event\">" + (e.at ? "<time>" + escape(e.at) + "</time> " : "") +
        escape(e.what) + (e.who ? "（" + escape(e.who) + "）" : "") +
        (e.data ? "<pre>" + escape(JSON.stringify(e.data, null, 2)) + "</pre>" : "") + "</div>");
    });
    info.innerHTML = lines.join("");
  }

  // bpmn-js makes its <svg> focusable (keyboard zoom and scroll); a focusable element inside
  // the container's role="img" would be hidden from screen readers, so the container's name
  // moves onto the svg, where the keyboard lands.
  function nameCanvas() {
    var svg = holder.querySelector("svg[tabindex]");
    if (!svg || holder.getAttribute("role") !== "img") { return; }
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", holder.getAttribute("aria-label"));
    holder.removeAttribute("role");
    holder.removeAttribute("aria-label");
  }

  function escape(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" }[c];
    });
  }

  function source() {
    var inline = holder.getAttribute("data-xml");
    if (inline) { return Promise.resolve(document.getElementById(inline).value); }
    return fetch(holder.getAttribute("data-src"), { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.text(); });
  }

  // Zoom in, zoom out and fit: buttons above the diagram, the keys + - 0 on the focused
  // diagram, and Ctrl + mouse wheel (bpmn-js's own). The scale shown is kept on the holder's
  // data-zoom for the page's tests.
  var STEP = 1.25;
  function zoomControls(canvas) {
    var bar = document.createElement("div");
    bar.className = "diagram-zoom";
    bar.setAttribute("role", "toolbar");
    bar.setAttribute("aria-label", "流程图缩放");
    [["zoom-in", "+", "放大流程图", function () { zoomBy(canvas, STEP); }],
      ["zoom-out", "−", "缩小流程图", function () { zoomBy(canvas, 1 / STEP); }],
      ["zoom-fit", "适应", "流程图适应画布", function () { canvas.zoom("fit-viewport", "auto"); }]]
      .forEach(function (spec) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = spec[0];
        button.textContent = spec[1];
        button.setAttribute("aria-label", spec[2]);
        button.title = spec[2];
        button.addEventListener("click", spec[3]);
        bar.appendChild(button);
      });
    var hint = document.createElement("span");
    hint.className = "hint";
    hint.textContent = "也可在图上按 + − 0 键，或按住 Ctrl 滚动鼠标滚轮缩放";
    bar.appendChild(hint);
    holder.parentNode.insertBefore(bar, holder);
    holder.addEventListener("keydown", function (e) {
      if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) { return; }
      var action = { "+": STEP, "=": STEP, "-": 1 / STEP, "0": 0 }[e.key];
      if (action === undefined) { return; }
      if (action) { zoomBy(canvas, action); } else { canvas.zoom("fit-viewport", "auto"); }
      e.preventDefault();
    });
    var shown = function () { holder.setAttribute("data-zoom", canvas.zoom().toFixed(3)); };
    viewer.get("eventBus").on("canvas.viewbox.changed", shown);
    shown();
  }

  function zoomBy(canvas, factor) {
    var scale = Math.min(4, Math.max(0.2, canvas.zoom() * factor));
    canvas.zoom(scale, "auto");
  }

  source()
    .then(function (xml) { return viewer.importXML(xml); })
    .then(function () {
      var canvas = viewer.get("canvas");
      canvas.zoom("fit-viewport");
      nameCanvas();
      zoomControls(canvas);
      Object.keys(marks).forEach(function (id) {
        try { canvas.addMarker(id, "cqpi-" + marks[id]); } catch (e) { /* not on this diagram */ }
      });
      viewer.get("eventBus").on("element.click", function (e) { show(e.element); });
      var overlays = viewer.get("overlays");
      Object.keys(marks).forEach(function (id) {
        if (marks[id] !== "problem" || !details[id]) { return; }
        try {
          overlays.add(id, { position: { top: -28, left: 0 }, html: "<div class=\"problem-badge\" title=\"" +
            escape(details[id].map(function (d) { return d.what; }).join("\n")) + "\">⚠ " + details[id].length + "</div>" });
        } catch (e) { /* not on this diagram */ }
      });
      holder.setAttribute("data-ready", "true");
    })
    .catch(function (err) {
      holder.textContent = /no diagram to display/.test(err.message)
        ? "流程图没有图形信息（BPMN DI），无法显示：请在流程建模器中打开该流程图、保存后重新部署。"
        : "流程图无法显示：" + err.message;
    });
})();
