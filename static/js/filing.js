// "Add another output" on the filing form. Without JavaScript the form still works: it comes
// with blank rows, and blank rows are ignored when it is saved.
(function () {
  "use strict";

  function setUp(form) {
    var rows = form.querySelector("[data-output-rows]");
    var template = form.querySelector("template[data-output-template]");
    var button = form.querySelector("[data-add-output]");
    var total = form.querySelector('input[name="outputs-TOTAL_FORMS"]');
    var max = form.querySelector('input[name="outputs-MAX_NUM_FORMS"]');
    if (!rows || !template || !button || !total) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      var index = parseInt(total.value, 10);
      if (max && index >= parseInt(max.value, 10)) {
        button.disabled = true;
        return;
      }
      var html = template.innerHTML
        .replace(/__prefix__/g, String(index))
        .replace(/__number__/g, String(index + 1));
      rows.insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
      var added = rows.lastElementChild;
      var first = added && added.querySelector("input, textarea, select");
      if (first) {
        first.focus();
      }
    });
  }

  function init() {
    document.querySelectorAll("[data-filing-form]").forEach(setUp);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
