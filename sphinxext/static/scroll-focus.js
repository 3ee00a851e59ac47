// Scrollable blocks (code, outputs, wide tables) are keyboard stops only while they
// scroll (WCAG 2.1.1; axe-core's scrollable-region-focusable). pydata-sphinx-theme gives
// them tabindex 0 or -1 when the page loads, on resize and when the article's nodes
// change; a block shown later (a framework tab chosen, a code toggle opened) was
// measured while hidden, kept -1 and could not be scrolled by keyboard. Measure again
// when those show something. Same elements and rule as the theme's.
(function () {
  "use strict";

  const SCROLLABLE = ["pre", ".nboutput > .output_area", ".cell_output > .output",
                      ".jp-RenderedHTMLCommon", ".pst-scrollable-table-container"].join(", ");

  function measure(root) {
    (root || document).querySelectorAll(SCROLLABLE).forEach(function (el) {
      const scrolls = el.scrollWidth > el.clientWidth || el.scrollHeight > el.clientHeight;
      el.tabIndex = scrolls ? 0 : -1;
    });
  }

  document.addEventListener("change", function (event) {
    // sphinx-design switches every synced tab-set: measure the whole article
    if (event.target.matches && event.target.matches(".sd-tab-set > input")) {
      window.requestAnimationFrame(function () { measure(); });
    }
  });
  // `toggle` does not bubble: listen in the capture phase
  document.addEventListener("toggle", function (event) {
    if (event.target.open) measure(event.target);
  }, true);
  // After the theme's own first pass and sphinx-design's choice of tab
  window.addEventListener("load", function () { measure(); });
})();
