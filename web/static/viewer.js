// The attachments' preview on task pages: a button with data-preview (the file's address),
// data-preview-type ("pdf" or "image") and data-preview-name opens the dialog #viewer. A PDF
// is drawn by pdf.js (imported on the first preview from the address in the dialog's
// data-pdfjs, its worker from data-pdfjs-worker: both from our origin, so the page's
// Content-Security-Policy holds) into a canvas, one page at a time with previous and next; an
// image is shown as an image. Nothing loads before a person asks for a preview.
(function () {
  "use strict";
  var dialog = document.getElementById("viewer");
  if (!dialog) { return; }
  var $ = function (id) { return document.getElementById(id); };
  var canvas = $("viewer-canvas"), image = $("viewer-image"), status = $("viewer-status");
  var title = $("viewer-title"), pages = $("viewer-pages"), prev = $("viewer-prev");
  var next = $("viewer-next"), body = $("viewer-body"), opener = $("viewer-open");
  var library = null, loading = null, doc = null, number = 1, task = null, shown = 0;

  function pdfjs() {
    var url = dialog.getAttribute("data-pdfjs");
    if (!url) {
      return Promise.reject(new Error("未安装 PDF 预览组件（pdfjs-dist），请用“新窗口打开”查看"));
    }
    if (!library) {
      library = import(url).then(function (lib) {
        lib.GlobalWorkerOptions.workerSrc = dialog.getAttribute("data-pdfjs-worker");
        return lib;
      });
      library.catch(function () { library = null; });
    }
    return library;
  }

  function say(text, failed) {
    status.textContent = text;
    status.classList.toggle("error", !!failed);
  }

  function pager() {
    var count = doc ? doc.numPages : 0;
    pages.textContent = count ? "第 " + number + " / " + count + " 页" : "";
    prev.disabled = !doc || number <= 1;
    next.disabled = !doc || number >= count;
  }

  function draw(which) {
    var mine = shown;
    return doc.getPage(which).then(function (page) {
      if (mine !== shown) { return null; }
      if (task) { task.cancel(); task = null; }
      var width = Math.max(body.clientWidth - 20, 240);
      var scale = width / page.getViewport({ scale: 1 }).width;
      var viewport = page.getViewport({ scale: scale * (window.devicePixelRatio || 1) });
      canvas.width = Math.floor(viewport.width);
      canvas.height = Math.floor(viewport.height);
      canvas.hidden = false;
      task = page.render({ canvasContext: canvas.getContext("2d"), canvas: canvas,
                           viewport: viewport });
      say("正在绘制第 " + which + " 页…");
      return task.promise.then(function () {
        task = null;
        if (mine !== shown) { return; }
        number = which;
        pager();
        say("");
        canvas.setAttribute("data-page", String(which));
        dialog.setAttribute("data-ready", "true");
      });
    }).catch(function (error) {
      if (error && error.name === "RenderingCancelledException") { return; }
      if (window.console) { window.console.warn(error); }
      say("第 " + which + " 页无法显示，请用“新窗口打开”或下载后查看", true);
    });
  }

  function reset() {
    shown += 1;
    if (task) { task.cancel(); task = null; }
    if (loading) { loading.destroy(); loading = null; }  // the document and its worker's part
    doc = null;
    number = 1;
    canvas.hidden = true;
    canvas.removeAttribute("data-page");
    image.hidden = true;
    image.removeAttribute("src");
    dialog.removeAttribute("data-ready");
    say("");
    pager();
  }

  function openPdf(url) {
    var mine = shown;
    say("正在载入 PDF…");
    pdfjs().then(function (lib) {
      if (mine !== shown) { return null; }
      // no wasm (the policy runs no compiled code) and no XFA forms: the pages only
      loading = lib.getDocument({ url: url, useWasm: false, enableXfa: false, cMapPacked: true,
                                  cMapUrl: dialog.getAttribute("data-pdfjs-cmaps"),
                                  standardFontDataUrl: dialog.getAttribute("data-pdfjs-fonts") });
      return loading.promise.then(function (loaded) {
        if (mine !== shown) { return null; }
        doc = loaded;
        pager();
        return draw(1);
      });
    }).catch(function (error) {
      if (mine !== shown) { return; }
      if (window.console) { window.console.warn(error); }
      say(error && error.message && /[\u4e00-\u9fff]/.test(error.message) ? error.message
        : "无法预览该 PDF（文件可能已损坏或不是有效的 PDF），请用“新窗口打开”或下载后查看", true);
    });
  }

  function openImage(url, name) {
    image.alt = name;
    image.onload = function () { say(""); dialog.setAttribute("data-ready", "true"); };
    image.onerror = function () { say("图片无法显示，请用“新窗口打开”查看", true); };
    image.hidden = false;
    say("正在载入…");
    image.src = url;
  }

  function open(button) {
    reset();
    var url = button.getAttribute("data-preview");
    var name = button.getAttribute("data-preview-name") || "";
    title.textContent = name;
    opener.href = url;
    if (!dialog.open) { dialog.showModal(); }
    if (button.getAttribute("data-preview-type") === "image") {
      openImage(url, name);
    } else {
      openPdf(url);
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-preview]");
    if (button) { open(button); }
  });
  prev.addEventListener("click", function () { if (doc && number > 1) { draw(number - 1); } });
  next.addEventListener("click", function () {
    if (doc && number < doc.numPages) { draw(number + 1); }
  });
  $("viewer-close").addEventListener("click", function () { dialog.close(); });
  dialog.addEventListener("close", reset);
  dialog.addEventListener("keydown", function (event) {
    if (event.key === "ArrowLeft" && !prev.disabled) { prev.click(); }
    if (event.key === "ArrowRight" && !next.disabled) { next.click(); }
  });
})();
