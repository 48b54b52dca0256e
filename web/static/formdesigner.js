/* The form designer (/models/forms/new): bpmn.io's form-js editor
   (vendor/form-js/form-editor.umd.js), a .form file opened from disk, the server's check
   (校验), the download of the .form file, and a preview through formview.js. */
(function () {
  "use strict";

  var options = JSON.parse(document.getElementById("designer-options").textContent);
  var fileName = document.getElementById("form-file-name");
  var check = document.getElementById("form-check");
  var editorHost = document.getElementById("form-editor");
  var preview = document.getElementById("form-preview");
  var previewHost = document.getElementById("preview-host");
  var previewData = document.getElementById("preview-data");
  var shown = null;  // the preview's form-js view

  /* The editor's FEEL fields are CodeMirror editors, whose style-mod puts its rules in a
     <style> element at the top of <head>: refused by our style-src 'self'. Its rules go into
     a constructed style sheet instead (CSSOM, which the policy allows), updated each time
     style-mod hands the element over again with more rules; nothing else is touched. */
  function adoptInjectedStyles() {
    var insertBefore = Node.prototype.insertBefore;
    var sheets = new WeakMap();
    Node.prototype.insertBefore = function (node, child) {
      if (this !== document.head || !(node instanceof HTMLStyleElement) || node.nonce ||
          !("adoptedStyleSheets" in document)) {
        return insertBefore.call(this, node, child);
      }
      var sheet = sheets.get(node);
      if (!sheet) {
        sheet = new CSSStyleSheet();
        sheets.set(node, sheet);
        document.adoptedStyleSheets = [sheet].concat(document.adoptedStyleSheets);
      }
      sheet.replaceSync(node.textContent);
      return node;
    };
  }

  function blank() {
    var id = "Form_" + Math.random().toString(36).slice(2, 9);
    return { type: "default", id: id, schemaVersion: window.FormEditor.schemaVersion,
             components: [] };
  }

  function say(kind, title, lines) {
    var heading = document.createElement("h2");
    heading.textContent = title;
    var list = document.createElement("ul");
    list.className = "problems";
    if (kind === "problems") { list.id = "form-problems"; }
    lines.forEach(function (line) {
      var item = document.createElement("li");
      item.className = kind === "problems" ? "error" : "";
      item.textContent = line;
      list.appendChild(item);
    });
    check.replaceChildren(heading);
    if (lines.length) { check.appendChild(list); }
    check.setAttribute("data-state", kind);
  }

  if (!window.FormEditor) {
    say("problems", "表单设计器未能加载", ["请确认已安装前端组件（make install）后刷新页面。"]);
    return;
  }
  adoptInjectedStyles();
  var editor = new window.FormEditor.FormEditor({
    container: editorHost,
    exporter: { name: "cqpi 表单设计器", version: "1" }
  });
  window.cqpiFormEditor = editor;
  editor.importSchema(blank()).then(function () {
    editorHost.setAttribute("data-ready", "true");
  });

  function schemaText() { return JSON.stringify(editor.saveSchema(), null, 2); }

  document.getElementById("open-form").addEventListener("change", function (event) {
    var file = event.target.files[0];
    if (!file) { return; }
    file.text().then(function (text) {
      var schema;
      try { schema = JSON.parse(text); } catch (error) {
        say("problems", "无法打开 " + file.name, ["不是有效的 JSON：" + error.message]);
        return;
      }
      return editor.importSchema(schema).then(function () {
        fileName.value = file.name;
        say("opened", "已打开 " + file.name, []);
        showTab(false);
      });
    }).catch(function (error) {
      say("problems", "无法打开 " + file.name, ["表单设计器无法读取此文件：" + error.message]);
    }).finally(function () { event.target.value = ""; });
  });

  document.getElementById("check-form").addEventListener("click", function () {
    var body = new FormData();
    body.append("csrf_token", document.getElementById("csrf").value);
    body.append("form", schemaText());
    check.setAttribute("data-state", "checking");
    fetch(options.check_url, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("服务器答复 " + response.status); }
        return response.json();
      }).then(function (answer) {
        if (answer.problems.length) {
          say("problems", "校验未通过：" + answer.problems.length + " 个问题", answer.problems);
        } else {
          say("valid", "校验通过：可下载后与流程图一同部署", []);
        }
      }).catch(function (error) {
        say("problems", "校验失败", [error.message + "，请稍后重试。"]);
      });
  });

  document.getElementById("download-form").addEventListener("click", function () {
    var name = (fileName.value || "").trim().replace(/[\\/:*?"<>|]+/g, "_") || "新表单";
    if (!/\.form$/i.test(name)) { name += ".form"; }
    var link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([schemaText()], { type: "application/json" }));
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(link.href); }, 1000);
  });

  function showPreview() {
    if (shown) { shown.form.destroy(); shown = null; }
    var form = document.createElement("form");
    form.id = "preview-form";
    form.noValidate = true;
    var container = document.createElement("div");
    container.id = "preview";
    container.setAttribute("data-formjs-field", "form_data");
    var submit = document.createElement("button");
    submit.type = "submit";
    submit.className = "primary";
    submit.textContent = "试提交";
    form.append(container, submit);
    previewHost.replaceChildren(form);
    previewData.textContent = "（尚未试提交）";
    previewData.removeAttribute("data-state");
    window.cqpiFormView.attach(container, { schema: editor.saveSchema() }).then(function (view) {
      shown = view;
    }).catch(function (error) {
      container.textContent = "无法预览：" + error.message;
    });
    form.addEventListener("submit", function (event) {  // after formview's listener, made by attach
      if (event.target !== form) { return; }  // form-js's inner form, bubbling up
      var refused = event.defaultPrevented;
      event.preventDefault();  // a preview sends nothing
      previewData.textContent = refused ? "有字段未通过校验，见表单中的提示。"
        : JSON.stringify(JSON.parse(form.elements.form_data.value), null, 2);
      previewData.setAttribute("data-state", refused ? "refused" : "accepted");
    });
  }

  function showTab(previewing) {
    document.getElementById("tab-design").setAttribute("aria-selected", String(!previewing));
    document.getElementById("tab-preview").setAttribute("aria-selected", String(previewing));
    editorHost.hidden = previewing;
    preview.hidden = !previewing;
    if (previewing) { showPreview(); }
  }
  document.getElementById("tab-design").addEventListener("click", function () { showTab(false); });
  document.getElementById("tab-preview").addEventListener("click", function () { showTab(true); });
})();
