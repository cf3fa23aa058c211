// Regions that scroll sideways (wide tables, long code) get a tab stop, so keyboard users can scroll them too.
(function () {
  "use strict";

  function markScrollable() {
    document.querySelectorAll("pre, .table-wrap").forEach(function (el) {
      if (el.scrollWidth > el.clientWidth) el.setAttribute("tabindex", "0");
      else if (el.getAttribute("tabindex") === "0") el.removeAttribute("tabindex");
    });
  }

  document.addEventListener("DOMContentLoaded", markScrollable);
  window.addEventListener("resize", markScrollable);
})();

// Copy to clipboard: <button data-copy-target="#secret">Copy</button> copies the text (or value) of #secret.
(function () {
  "use strict";

  function textOf(el) {
    return "value" in el && typeof el.value === "string" ? el.value : el.textContent.trim();
  }

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    return ok ? Promise.resolve() : Promise.reject(new Error("copy failed"));
  }

  function flash(button, label) {
    var original = button.dataset.copyLabel || button.textContent;
    button.dataset.copyLabel = original;
    button.textContent = label;
    setTimeout(function () { button.textContent = original; }, 2000);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) return;
    var target = document.querySelector(button.getAttribute("data-copy-target"));
    if (!target) return;
    event.preventDefault();
    var text = textOf(target);
    var copy = navigator.clipboard && window.isSecureContext
      ? navigator.clipboard.writeText(text)
      : fallbackCopy(text);
    copy.then(
      function () { flash(button, "Copied"); },
      function () { flash(button, "Press Ctrl+C to copy"); }
    );
  });
})();

// The key form: the custom-scope checkboxes show only while "Custom" is the chosen scope preset. Without
// JavaScript every checkbox is shown (and the server ignores them unless "Custom" is chosen).
(function () {
  "use strict";

  function sync(form) {
    var checkbox = form.querySelector("input[data-custom-scopes]");
    var custom = form.querySelector('input[name="scope_preset"][value="custom"]');
    if (!checkbox || !custom) return;
    // The field's whole group (its legend and help too): the form's child that holds it.
    var group = checkbox.closest("form > *") || checkbox.closest("fieldset");
    group.hidden = !custom.checked;
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-custom-scopes]").forEach(function (checkbox) {
      var form = checkbox.form;
      if (!form || form.dataset.customScopes) return;
      form.dataset.customScopes = "on";
      form.addEventListener("change", function (event) {
        if (event.target.name === "scope_preset") sync(form);
      });
      sync(form);
    });
  });
})();

// A search form with data-key-prefix="dp" (the list of API keys): a whole key pasted into its search box is
// replaced by its public id (the 12 characters after "dp_live_" or "dp_test_") before the form is sent, so
// the secret never reaches the URL, the server's log or the history. The server does the same for a browser
// without JavaScript (apikeys.filters), and answers with a redirect to the public id.
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-key-prefix]");
    if (!form || !form.elements.q) return;
    var prefix = form.getAttribute("data-key-prefix");
    var match = new RegExp("^" + prefix + "_(?:live|test)_([0-9A-Za-z]{12})").exec(form.elements.q.value.trim());
    if (match) form.elements.q.value = match[1];
  });
})();
