// The link to the build's PDF of the chapter (sphinxext/print_pdf.py) follows the page's
// framework tab, as its code does: of the links, one per framework, only the one of
// the checked tab shows. Without this script all of them show.
(function () {
  "use strict";
  const SYNC_GROUP = "framework";

  function checkedFramework() {
    const checked = document.querySelector(
      ".sd-tab-set > input:checked + label[data-sync-group='" + SYNC_GROUP + "']");
    return checked ? checked.getAttribute("data-sync-id") : null;
  }

  function show(framework) {
    const links = document.querySelectorAll("a.d2l-pdf[data-framework]");
    if (!framework) return;
    links.forEach(function (link) {
      link.hidden = link.getAttribute("data-framework") !== framework;
    });
  }

  function start() {
    // sphinx-design's ready() (DOMContentLoaded) checks the tab of ?framework= or of
    // the stored choice; it may run after this script, so read the tabs after it
    window.setTimeout(function () { show(checkedFramework()); }, 0);
    // A tab chosen by the reader: sphinx-design checks the other tab-sets' inputs
    // without events, so the changed input is the one to read
    document.addEventListener("change", function (event) {
      const input = event.target;
      if (!input.matches || !input.matches(".sd-tab-set > input") || !input.checked) return;
      const label = input.nextElementSibling;
      if (label && label.getAttribute("data-sync-group") === SYNC_GROUP) {
        show(label.getAttribute("data-sync-id"));
      }
    });
    // sphinx-design opens the tab a URL fragment points into
    window.addEventListener("hashchange", function () {
      window.setTimeout(function () { show(checkedFramework()); }, 0);
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
