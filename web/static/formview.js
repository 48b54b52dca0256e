/* A form-js form (bpmn.io's viewer, vendor/form-js/form-viewer.umd.js, loaded before this
   file) inside one of our page forms: the page's POST carries the form's data as JSON in a
   hidden field; form-js's own checks run before it is sent, in Chinese. Marshmallow forms
   rendered by the server are left alone: only elements with data-formjs are touched.

   Markup:
     <form method="post">
       <input type="hidden" name="csrf_token" ...>
       <div data-formjs="form-schema" data-formjs-field="form_data"
            [data-formjs-data="form-values"] [data-formjs-readonly]></div>
       <script type="application/json" id="form-schema">{"components": [...]}</script>
       [<script type="application/json" id="form-values">{"title": "..."}</script>]
       <button type="submit">提交</button>
     </form>
   The hidden <input name="form_data"> is made when the form has none. A submit button with
   formnovalidate (退回, 暂存) sends the data without form-js's checks; the form's own submit
   button (a form-js "button" of action submit) sends the page's form, checked. When the form is
   ready, the container gets data-ready="true".

   Script:
     cqpiFormView.render(container, schema, {data, readonly}) -> Promise of a view
       view.form       the form-js Form
       view.data()     what the form would submit now
       view.validate() the problems, {key: [messages]} ({} when none); shown on the fields
     cqpiFormView.attach(container, {schema, data}) does the markup's wiring for one
       container (schema and data, when given, instead of the data blocks) -> Promise of a view
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

  function inChinese(form) {
    var validator = form.get("validator");
    ["validateField", "validateFieldInstance"].forEach(function (name) {
      var original = validator[name].bind(validator);
      validator[name] = function (field, value) { return original(field, value).map(translate); };
    });
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
    inChinese(form);
    return form.importSchema(schema, options.data || {}).then(function () {
      return {
        form: form,
        data: function () { return form._getSubmitData(); },
        validate: function () { return form.validate(); }
      };
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

  function firstError(container) {
    var error = container.querySelector(".fjs-has-errors input, .fjs-has-errors select, " +
                                        ".fjs-has-errors textarea, .fjs-has-errors");
    if (error) { error.focus(); error.scrollIntoView({ block: "center" }); }
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
    return render(container, given.schema || block(container.getAttribute("data-formjs")), {
      data: given.data || block(container.getAttribute("data-formjs-data")), readonly: readonly
    }).then(function (made) {
      view = made;
      if (field) {
        field.value = JSON.stringify(view.data());
        view.form.on("changed", function () { field.value = JSON.stringify(view.data()); });
        view.form.on("submit", function (event) {  // its own submit button: send the page
          if (event && event.errors && Object.keys(event.errors).length) {
            firstError(container);
          } else if (pageForm.requestSubmit) {
            pageForm.requestSubmit();
          }
        });
      }
      container.setAttribute("data-ready", "true");
      return view;
    });
  }

  window.cqpiFormView = { render: render, attach: attach, translate: translate };
  document.querySelectorAll("[data-formjs]").forEach(function (container) {
    attach(container).catch(function (error) {
      container.setAttribute("data-error", String(error && error.message));
    });
  });
})();
