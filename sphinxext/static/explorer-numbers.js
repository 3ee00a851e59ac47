// Numbers as the explorers show them to the reader: with the decimal mark of the page's
// language (<html lang>: "0,25" on the Indonesian, Turkish and Portuguese pages), as
// the page's prose and tables write them. Only the text a reader sees goes through it;
// SVG coordinates and data attributes keep JavaScript's own format.
(function () {
  "use strict";

  function decimalMark(lang) {
    try {
      const part = new Intl.NumberFormat(lang || "en").formatToParts(1.5)
        .find(function (p) { return p.type === "decimal"; });
      return part ? part.value : ".";
    } catch (error) {  // an unknown language tag: keep JavaScript's mark
      return ".";
    }
  }

  const mark = decimalMark(document.documentElement.lang);

  // `text`, a number as toFixed/toPrecision/String wrote it, with the page's mark
  window.d2lExplorerNumber = function (text) {
    return mark === "." ? text : String(text).replace(".", mark);
  };
})();
