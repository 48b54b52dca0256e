/* A form-js form (bpmn.io's viewer, vendor/form-js/form-viewer.umd.js, loaded before this
   file) inside one of our page forms: the page's POST carries the form's data as JSON in a
   hidden field; form-js's own checks run before it is sent, in Chinese. Marshmallow forms
   rendered by the server are left alone: only elements with data-formjs are touched.

   Markup:
     <form method="post">
       <input type="hidden" name="csrf_token" ...>
       [<ul id="form-errors"><li data-key="project_number">...</li>...</ul>]
       <div data-formjs="form-schema" data-formjs-field="form_data"
            [data-formjs-data="form-values"] [data-formjs-readonly]
            [data-formjs-errors="form-problems" data-formjs-error-list="form-errors"]></div>
       <script type="application/json" id="form-schema">{"components": [...]}</script>
       [<script type="application/json" id="form-values">{"title": "..."}</script>]
       [<script type="application/json" id="form-problems">{"title": ["..."]}</script>]
       <button type="submit">提交</button>
     </form>
   The hidden <input name="form_data"> is made when the form has none. A submit button with
   formnovalidate (退回, 暂存) sends the data without form-js's checks; the form's own submit
   button (a form-js "button" of action submit) sends the page's form, checked. When the form is
   ready (its server errors, if any, shown), the container gets data-ready="true".

   The server's errors of a refused submission ({key: [messages]}, the key a field's value
   path: "title", "progress.percent" in a group, "items.0.amount" or "items[0].amount" in a
   dynamic list; "_schema" for the whole) are shown on the fields form-js shows, as its own
   are (form-js's state errors, keyed by field id and repeat indexes, as validate() sets them):
   red, the message under the field. A message stays while its field keeps the refused value
   (form-js's re-checks, on blur or of initial values, keep it) and goes when the person edits
   the field; it never stops the form being sent again (the server decides again). Errors of
   no field shown stay in the list (data-formjs-error-list): its items of placed errors
   (<li data-key>) are removed, and the list when none is left (the first field with an error
   is then scrolled into view).

   Script:
     cqpiFormView.render(container, schema, {data, readonly, errors}) -> Promise of a view
       view.form       the form-js Form
       view.data()     what the form would submit now
       view.validate() form-js's problems, {field id: [messages]} ({} when none); shown on
                       the fields with the server's that still stand, which are not returned
       view.own(errors) form-js's errors (its state's, or a submit event's) without the
                       server's: what stops the form being sent
       view.unplaced   the server's errors not shown on a field, {key: [messages]}
     cqpiFormView.attach(container, {schema, data, errors}) does the markup's wiring for one
       container (schema, data and errors, when given, instead of the data blocks) -> Promise
       of a view
     cqpiFormView.translate(message) form-js's English message in Chinese */
(function () {
  "use strict";

  var MESSAGES = [
    [/^Field is required\.$/, function () { return "此项必填。"; }],
    [/^Field must have minimum value of (.+)\.$/, function (m) { return "不能小于 " + m[1] + "。"; }],
    [/^Field must have maximum value of (.+)\.$/, function (m) { return "不能大于 " + m[1] + "。"; }],
    [/^Field must have minimum length of (.+)\.$/, function (m) { return "至少 " + m[1] + " 个字符。"; }],
    [/^Field must have maximum length of (.+)\.$/, function (m) { return "最多 " + m[1] + " 个字符。"; }],
    [/^Field must match pattern (.+)\.$/, function () { return "格式不正确。"; }],
    [/^Field must be a valid email\.$/, function () { return "请填写有效的电子邮箱地址。"; }],
    [/^Field must be a valid\s+international phone number/, function () {
      return "请填写有效的国际格式电话号码（如 +8613800000000）。"; }],
    [/^Value is not a number\.$/, function () { return "请填写数字。"; }],
    [/^Value is expected to be an integer\.$/, function () { return "请填写整数。"; }],
    [/^Value is expected to have at most (\d+) decimal digits?\.$/, function (m) {
      return "最多 " + m[1] + " 位小数。"; }],
    [/^Please select a valid value, the two nearest valid values are (.+) and (.+)\.$/,
      function (m) { return "数值不符合步长，最接近的有效值为 " + m[1] + " 和 " + m[2] + "。"; }]
  ];

  function translate(message) {
    for (var i = 0; i < MESSAGES.length; i++) {
      var match = MESSAGES[i][0].exec(message);
      if (match) { return MESSAGES[i][1](match); }
    }
    return message;
  }

  function inChinese(form, server) {
    var validator = form.get("validator");
    ["validateField", "validateFieldInstance"].forEach(function (name) {
      var original = validator[name].bind(validator);
      validator[name] = function (field, value) { return original(field, value).map(translate); };
    });
    var check = validator.validateFieldInstance;
    // every check of a field instance (typing, blur, initial values, validate()) goes here:
    // the server's messages stand while the value is the one refused, and go once it is not
    validator.validateFieldInstance = function (instance, value) {
      var found = check(instance, value);
      var at = pathKey(errorPath(instance.id, instance.indexes));
      var refused = server[at];
      if (!refused) { return found; }
      if (!sameValue(value, refused.value)) {
        delete server[at];
        return found;
      }
      return union(found, refused.messages);
    };
  }

  // --- the server's errors on the fields -------------------------------------------------

  function errorPath(id, indexes) {
    indexes = indexes || {};
    return [id].concat(Object.keys(indexes).map(function (parent) { return indexes[parent]; }));
  }

  function pathKey(path) {
    return JSON.stringify(path.map(String));
  }

  function sameValue(a, b) {
    var plain = function (value) { return JSON.stringify(value === undefined ? null : value); };
    return plain(a) === plain(b);
  }

  function union(messages, more) {
    return messages.concat(more.filter(function (m) { return messages.indexOf(m) < 0; }));
  }

  function getAt(node, path) {
    for (var i = 0; i < path.length && node != null; i++) { node = node[path[i]]; }
    return node;
  }

  function setAt(node, path, value) {
    for (var i = 0; i < path.length - 1; i++) {
      if (node[path[i]] == null || typeof node[path[i]] !== "object") {
        node[path[i]] = typeof path[i + 1] === "number" ? [] : {};
      }
      node = node[path[i]];
    }
    node[path[path.length - 1]] = value;
  }

  function messagesOf(value) {
    var list = Array.isArray(value) ? value : [value];
    return list.filter(function (m) { return m != null && m !== ""; }).map(String);
  }

  // the field instances form-js shows and checks, by value path ("progress.percent")
  function shownFields(form) {
    var fields = form.get("formFieldRegistry");
    var shown = Object.create(null);
    form.get("formFieldInstanceRegistry").getAllKeyed().forEach(function (instance) {
      var field = fields.get(instance.id);
      if (field && !field.disabled && Array.isArray(instance.valuePath)) {
        shown[instance.valuePath.join(".")] = instance;
      }
    });
    return shown;
  }

  // put the server's errors on their fields; those of no field shown are returned
  function place(form, server, errors) {
    if (!Object.keys(errors).length) { return Object.create(null); }
    var shown = shownFields(form);
    var state = form._getState();
    var next = JSON.parse(JSON.stringify(state.errors || {}));
    var unplaced = Object.create(null);  // a key is what was posted: "__proto__" may be one
    Object.keys(errors).forEach(function (key) {
      var messages = messagesOf(errors[key]);
      var instance = shown[String(key).replace(/\[(\d+)\]/g, ".$1")];
      if (!messages.length) { return; }
      if (!instance) {
        unplaced[key] = messages;
        return;
      }
      var path = errorPath(instance.id, instance.indexes);
      var at = pathKey(path);
      var refused = server[at] || (server[at] = {
        path: path, messages: [], value: getAt(state.data, instance.valuePath)
      });
      refused.messages = union(refused.messages, messages);
      setAt(next, path, union(getAt(next, path) || [], messages));
    });
    form._setState({ errors: next });
    return unplaced;
  }

  // form-js's errors without the server's: what stops the form being sent
  function ownErrors(node, path, server) {
    if (Array.isArray(node) && !node.some(function (m) { return typeof m === "object"; })) {
      var refused = server[pathKey(path)];
      var left = refused ? node.filter(function (m) { return refused.messages.indexOf(m) < 0; })
        : node.slice();
      return left.length ? left : null;
    }
    if (!node || typeof node !== "object") { return null; }
    var kept = Array.isArray(node) ? [] : {};
    var any = false;
    Object.keys(node).forEach(function (key) {
      var child = ownErrors(node[key], path.concat([key]), server);
      if (child !== null) { kept[key] = child; any = true; }
    });
    return any ? kept : null;
  }

  // after form-js has drawn what its state holds (preact renders in a microtask)
  function drawn() {
    return new Promise(function (resolve) { setTimeout(resolve, 0); });
  }

  function render(container, schema, options) {
    options = options || {};
    if (!window.FormViewer) {
      container.textContent = "表单组件未能加载，请刷新页面或联系管理员。";
      return Promise.reject(new Error("form-js viewer not loaded"));
    }
    // debounce off: form-js otherwise applies typing 300 ms late, and a re-render within
    // that window (a message shown or cleared) puts the old value back into the field
    var form = new window.FormViewer.Form({
      container: container,
      debounce: false,
      properties: { readOnly: !!options.readonly }
    });
    var server = Object.create(null);  // the server's errors that stand, by error path
    inChinese(form, server);
    return form.importSchema(schema, options.data || {}).then(drawn).then(function () {
      var unplaced = place(form, server, options.errors || {});
      return drawn().then(function () {
        return {
          form: form,
          data: function () { return form._getSubmitData(); },
          validate: function () { return ownErrors(form.validate(), [], server) || {}; },
          own: function (errors) { return ownErrors(errors, [], server) || {}; },
          unplaced: unplaced
        };
      });
    });
  }

  function block(id) {
    var element = id && document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  function hiddenField(pageForm, name) {
    var field = pageForm.querySelector("input[type=hidden][name='" + name + "']");
    if (!field) {
      field = document.createElement("input");
      field.type = "hidden";
      field.name = name;
      pageForm.appendChild(field);
    }
    return field;
  }

  // the first field with a problem: in view, and focused unless only shown (a page that
  // comes back refused: focus would open a select's list or a date's picker by itself)
  function firstError(container, onlyShow) {
    var error = container.querySelector(".fjs-has-errors input, .fjs-has-errors select, " +
                                        ".fjs-has-errors textarea, .fjs-has-errors");
    if (!error) { return; }
    if (!onlyShow) { error.focus(); }
    error.scrollIntoView({ block: "center" });
  }

  function attach(container, given) {
    given = given || {};
    var readonly = container.hasAttribute("data-formjs-readonly");
    var pageForm = container.closest("form");
    var name = container.getAttribute("data-formjs-field") || "form_data";
    var field = pageForm && !readonly ? hiddenField(pageForm, name) : null;
    var view = null;
    if (pageForm && !readonly) {
      pageForm.addEventListener("submit", function (event) {
        if (event.target !== pageForm) { return; }  // form-js's own inner form, bubbling up
        if (!view) { event.preventDefault(); return; }
        field.value = JSON.stringify(view.data());
        var skip = event.submitter && event.submitter.formNoValidate;
        if (!skip && Object.keys(view.validate()).length) {
          event.preventDefault();
          firstError(container);
        }
      });
    }
    var errors = given.errors || block(container.getAttribute("data-formjs-errors"));
    return render(container, given.schema || block(container.getAttribute("data-formjs")), {
      data: given.data || block(container.getAttribute("data-formjs-data")), readonly: readonly,
      errors: errors
    }).then(function (made) {
      view = made;
      if (field) {
        field.value = JSON.stringify(view.data());
        view.form.on("changed", function () { field.value = JSON.stringify(view.data()); });
        view.form.on("submit", function (event) {  // its own submit button: send the page
          if (event && event.errors && Object.keys(view.own(event.errors)).length) {
            firstError(container);
          } else if (pageForm.requestSubmit) {
            pageForm.requestSubmit();
          }
        });
      }
      if (errors) {
        var left = unlisted(container.getAttribute("data-formjs-error-list"), view.unplaced);
        if (!left) { firstError(container, true); }
      }
      container.setAttribute("data-ready", "true");
      return view;
    });
  }

  // the list of the server's errors keeps those shown on no field; false when none is left
  function unlisted(id, unplaced) {
    var list = id && document.getElementById(id);
    if (!list) { return Object.keys(unplaced).length > 0; }
    list.querySelectorAll("li[data-key]").forEach(function (item) {
      if (!Object.prototype.hasOwnProperty.call(unplaced, item.getAttribute("data-key"))) {
        item.remove();
      }
    });
    if (list.querySelector("li")) { return true; }
    list.remove();
    return false;
  }

  window.cqpiFormView = { render: render, attach: attach, translate: translate };
  document.querySelectorAll("[data-formjs]").forEach(function (container) {
    attach(container).catch(function (error) {
      container.setAttribute("data-error", String(error && error.message));
    });
  });
})();
