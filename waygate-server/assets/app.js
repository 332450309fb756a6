// Waygate dashboard behaviour: theme, fantasy labels, the action filter,
// loading a file into the document field, copy buttons, snippet tabs, Try
// it's input carried between form and JSON, focus on loaded fragments, busy
// buttons and toasts. No inline script anywhere (the CSP forbids it).
(function () {
  "use strict";
  var root = document.documentElement;
  var store = {
    get: function (k) { try { return localStorage.getItem(k); } catch (e) { return null; } },
    set: function (k, v) { try { localStorage.setItem(k, v); } catch (e) { /* private mode */ } }
  };

  var theme = store.get("waygate-theme");
  if (theme === "light" || theme === "dark") root.dataset.theme = theme;

  function toast(text, kind) {
    var box = document.getElementById("toasts");
    if (!box) return;
    var t = document.createElement("div");
    t.className = "toast" + (kind ? " " + kind : "");
    t.setAttribute("role", kind === "error" ? "alert" : "status");
    t.textContent = text;
    box.appendChild(t);
    setTimeout(function () { t.remove(); }, 6000);
  }

  function effectiveTheme() {
    if (root.dataset.theme) return root.dataset.theme;
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }

  function filterList(input) {
    var list = document.getElementById(input.dataset.filterTarget);
    if (!list) return;
    var terms = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    var items = list.children;
    for (var i = 0; i < items.length; i++) {
      var text = items[i].dataset.search || "";
      var match = terms.every(function (t) { return text.indexOf(t) !== -1; });
      items[i].hidden = !match;
      if (match) shown++;
    }
    var count = document.getElementById(input.dataset.filterCount);
    if (count) count.textContent = String(shown);
  }

  // Try it: switching between the generated form and the raw JSON carries
  // the input over. The gateway converts it (`data-convert`) by the same
  // schema walk that sends it, so the two modes cannot disagree; input it
  // cannot carry over keeps its mode, with the reason beside the toggle.
  function carryInput(form, to) {
    var area = document.getElementById("input");
    var fields = document.getElementById("schema-form");
    var note = document.getElementById("mode-error");
    var back = document.getElementById(to === "json" ? "mode-form" : "mode-json");
    var body = new URLSearchParams(new FormData(form));
    body.set("to", to);
    // Nothing typed while the answer is on its way gets overwritten.
    area.readOnly = true;
    fields.inert = true;
    form.setAttribute("aria-busy", "true");
    fetch(form.dataset.convert, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (r) {
        return r.json().then(function (answer) {
          if (!r.ok) throw new Error(answer.error && answer.error.message || "HTTP " + r.status);
          return answer;
        });
      })
      .then(function (answer) {
        note.hidden = true;
        if (to === "json") {
          area.value = answer.input;
          return;
        }
        fields.querySelectorAll("[name^='in/']").forEach(function (input) {
          var text = answer.fields[input.name];
          input.value = text === undefined ? "" : text;
        });
      })
      .catch(function (e) {
        back.checked = true;
        note.textContent = (to === "json" ? "The form's input cannot be shown as JSON: " : "This JSON does not fit the form: ") + e.message;
        note.hidden = false;
      })
      .finally(function () {
        area.readOnly = false;
        fields.inert = false;
        form.removeAttribute("aria-busy");
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-theme-toggle]").forEach(function (b) {
      b.setAttribute("aria-pressed", String(effectiveTheme() === "dark"));
      b.addEventListener("click", function () {
        var next = effectiveTheme() === "dark" ? "light" : "dark";
        root.dataset.theme = next;
        store.set("waygate-theme", next);
        b.setAttribute("aria-pressed", String(next === "dark"));
      });
    });

    var fantasy = store.get("waygate-fantasy") === "1";
    document.body.classList.toggle("fantasy", fantasy);
    document.querySelectorAll("[data-fantasy-toggle]").forEach(function (c) {
      c.checked = fantasy;
      c.addEventListener("change", function () {
        document.body.classList.toggle("fantasy", c.checked);
        store.set("waygate-fantasy", c.checked ? "1" : "0");
      });
    });

    document.querySelectorAll("[data-filter-target]").forEach(function (input) {
      input.addEventListener("input", function () { filterList(input); });
      if (input.value) filterList(input);
    });

    document.querySelectorAll("input[type=file][data-load-into]").forEach(function (input) {
      input.addEventListener("change", function () {
        var file = input.files && input.files[0];
        var target = document.getElementById(input.dataset.loadInto);
        if (!file || !target) return;
        var reader = new FileReader();
        reader.onload = function () { target.value = String(reader.result); toast("Loaded " + file.name); };
        reader.onerror = function () { toast("Could not read " + file.name, "error"); };
        reader.readAsText(file);
      });
    });

    document.querySelectorAll("[role=tab]").forEach(function (tab) {
      tab.addEventListener("click", function () {
        var list = tab.closest("[role=tablist]");
        list.querySelectorAll("[role=tab]").forEach(function (other) {
          var selected = other === tab;
          other.setAttribute("aria-selected", String(selected));
          var panel = document.getElementById(other.getAttribute("aria-controls"));
          if (panel) panel.hidden = !selected;
        });
      });
    });

    document.querySelectorAll("form[data-convert]").forEach(function (form) {
      form.querySelectorAll("input[name=mode]").forEach(function (radio) {
        radio.addEventListener("change", function () {
          if (radio.checked) carryInput(form, radio.value);
        });
      });
    });

    document.querySelectorAll("form:not([hx-post]):not([hx-get])").forEach(function (form) {
      form.addEventListener("submit", function () {
        var button = form.querySelector("button[type=submit], button:not([type])");
        if (button) button.setAttribute("aria-busy", "true");
      });
    });

    document.querySelectorAll(".toast").forEach(function (t) {
      setTimeout(function () { t.remove(); }, 6000);
    });
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.getElementById(button.dataset.copy);
    if (!source || !navigator.clipboard) return;
    navigator.clipboard.writeText(source.textContent).then(
      function () { toast("Copied to the clipboard"); },
      function () { toast("Copying was not allowed: select the text instead", "error"); }
    );
  });

  // A fragment loaded on demand (a tool export) takes the focus, so keyboard
  // and screen reader users land on what they asked for.
  document.addEventListener("htmx:afterSwap", function (event) {
    var loaded = event.detail.target.querySelector("[data-focus-on-load]");
    if (loaded) loaded.focus();
  });

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    toast("The request failed (" + xhr.status + "): " + (xhr.statusText || "see the page"), "error");
  });
  document.addEventListener("htmx:sendError", function () {
    toast("Waygate did not answer: is it running?", "error");
  });
})();
