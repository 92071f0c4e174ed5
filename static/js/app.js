// RightsDesk: small progressive enhancements on top of htmx. Every page works without them.
(function () {
  "use strict";

  // Filter forms marked data-drop-empty send only the filters actually chosen, so the URL
  // pushed into the history (and shared by copy-paste) stays short and readable.
  document.addEventListener("htmx:configRequest", function (event) {
    const detail = event.detail;
    if (detail.verb !== "get" || !detail.elt.closest("[data-drop-empty]")) {
      return;
    }
    for (const [name, value] of Array.from(detail.formData.entries())) {
      if (value === "") {
        detail.formData.delete(name);
      }
    }
  });
})();
