// Small helpers shared by the modeler's modules.

const ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" };

export function escape(text) {
  return String(text == null ? "" : text).replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

// bpmn-js draws its align and distribute icons with style="" attributes, which the pages'
// Content-Security-Policy refuses (style-src 'self'): give them the same declarations as SVG
// presentation attributes, in providers that run after bpmn-js's own.
function presentational(html) {
  return html.replace(/style="([^"]*)"/g, (all, css) => css.split(";")
    .filter((d) => d.indexOf(":") > 0)
    .map((d) => {
      const colon = d.indexOf(":");
      return `${d.slice(0, colon).trim()}="${d.slice(colon + 1).trim()}"`;
    }).join(" "));
}

function restyled(key) {
  return () => (entries) => {
    Object.keys(entries).forEach((id) => {
      if (typeof entries[id][key] === "string") {
        entries[id] = Object.assign({}, entries[id]);
        entries[id][key] = presentational(entries[id][key]);
      }
    });
    return entries;
  };
}

export function withoutInlineStyles(modeler) {
  const LAST = 1;
  modeler.get("contextPad").registerProvider(LAST, {
    getContextPadEntries: restyled("html"), getMultiElementContextPadEntries: restyled("html"),
  });
  modeler.get("popupMenu").registerProvider("align-elements", LAST,
    { getPopupMenuEntries: restyled("imageHtml") });
}

// Styles that a package wrote as data-cqpi-style (scripts/build-assets.mjs renames its style=""
// attributes, which the policy refuses) applied through the CSSOM, which the policy allows.
export function applyDeferredStyles(container) {
  const apply = (node) => {
    if (node.nodeType !== 1) { return; }
    const all = node.matches("[data-cqpi-style]") ? [node] : [];
    all.push(...node.querySelectorAll("[data-cqpi-style]"));
    all.forEach((element) => {
      element.style.cssText = element.getAttribute("data-cqpi-style");
      element.removeAttribute("data-cqpi-style");
    });
  };
  new MutationObserver((changes) => changes.forEach((change) => change.addedNodes.forEach(apply)))
    .observe(container, { childList: true, subtree: true });
}
