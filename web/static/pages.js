// Small behaviours of every page, kept out of the markup so that the Content-Security-Policy
// can refuse inline script: a form with data-confirm asks before it is sent; a checkbox with
// data-check-all="NAME" ticks or clears the boxes named NAME in its form; a link with
// data-history-back goes back a page.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-history-back]");
    if (link) { event.preventDefault(); window.history.back(); }
  });
  document.addEventListener("change", function (event) {
    var all = event.target;
    var name = all.getAttribute && all.getAttribute("data-check-all");
    if (!name || !all.form) { return; }
    Array.prototype.forEach.call(all.form.elements, function (box) {
      if (box.type === "checkbox" && box.name === name) { box.checked = all.checked; }
    });
  });
})();
