// The results explorer of the chapter page (markup and data: sphinxext/results_explorer.py).
// It draws the executed runs embedded in the page (one metric, the ticked runs, the
// range over seeds) as an SVG line chart, marks the epochs where a run's learning rate
// drops, and reads out every shown run's value at the chosen epoch. The data shown are
// those of the page's framework tab. Plain script, no network: it works from any static
// server and from file://.
(function () {
  "use strict";

  const SVG = "http://www.w3.org/2000/svg";
  // Chart layout in SVG units; below the plot: the epoch ticks, then one row of
  // learning-rate-drop markers per shown run, then the axis label. The width follows
  // the chart's width on screen (within 320..640), so its text keeps its size on a phone.
  const BOX = { width: 640, height: 380, left: 64, right: 16, top: 14, bottom: 92 };
  const DROP_ROW = { first: 30, step: 9, size: 6 };
  // sphinx-design's framework tab sync group and its storage key (design-tabs.js)
  const SYNC_GROUP = "framework";
  const STORAGE_KEY = "sphinx-design-tab-id-" + SYNC_GROUP;
  const NO_VALUE = "\u2014";

  function svgElement(name, attrs, parent) {
    const el = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (key) { el.setAttribute(key, attrs[key]); });
    if (parent) parent.appendChild(el);
    return el;
  }

  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
  }

  // A round tick spacing (1, 2 or 5 times a power of ten) giving about `count` ticks.
  function tickStep(span, count) {
    const raw = span / count;
    const magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
    const norm = raw / magnitude;
    return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * magnitude;
  }

  // A value as the readout shows it: rates with six significant digits (no trailing
  // zeros), like the schedule explorer; accuracies, losses and gaps with four decimals.
  function formatValue(x, isRate) {
    if (x === null || x === undefined) return NO_VALUE;
    return isRate ? String(Number(x.toPrecision(6))) : x.toFixed(4);
  }

  // SVG path data through the points (x(i), y(values[i])), broken where a value is null.
  function linePath(values, x, y) {
    let d = "", pen = false;
    values.forEach(function (v, i) {
      if (v === null) { pen = false; return; }
      d += (pen ? " L" : "M") + x(i + 1).toFixed(2) + "," + y(v).toFixed(2);
      pen = true;
    });
    return d;
  }

  // SVG path data of the area between `low` and `high`, one closed piece per run of
  // epochs where both are known.
  function bandPath(low, high, x, y) {
    let d = "", piece = [];
    function flush() {
      if (!piece.length) return;
      const top = piece.map(function (i) { return x(i + 1).toFixed(2) + "," + y(high[i]).toFixed(2); });
      const bottom = piece.slice().reverse().map(function (i) {
        return x(i + 1).toFixed(2) + "," + y(low[i]).toFixed(2);
      });
      d += "M" + top.concat(bottom).join(" L") + " Z";
      piece = [];
    }
    low.forEach(function (v, i) {
      if (v === null || high[i] === null) flush(); else piece.push(i);
    });
    flush();
    return d;
  }

  function Chart(svg, xLabel) {
    this.svg = svg;
    this.width = BOX.width;
    this.axes = svgElement("g", { class: "d2l-results-axes" }, svg);
    this.bands = svgElement("g", { class: "d2l-results-bands" }, svg);
    this.lines = svgElement("g", { class: "d2l-results-lines" }, svg);
    this.guide = svgElement("line", { class: "d2l-results-guide" }, svg);
    this.dots = svgElement("g", { class: "d2l-results-dots" }, svg);
    this.drops = svgElement("g", { class: "d2l-results-drops" }, svg);
    this.xLabel = svgElement("text", { class: "d2l-results-axis-label", y: BOX.height - 6,
                                       "text-anchor": "middle" }, svg);
    this.xLabel.textContent = xLabel;
    const midY = (BOX.top + BOX.height - BOX.bottom) / 2;
    this.yLabel = svgElement("text", { class: "d2l-results-axis-label", x: 0, y: 0,
                                       transform: "translate(16 " + midY + ") rotate(-90)",
                                       "text-anchor": "middle" }, svg);
  }

  // The plot's x of 1-based epoch e, for `epochs` epochs.
  Chart.prototype.x = function (e, epochs) {
    const right = this.width - BOX.right;
    return BOX.left + (right - BOX.left) * (e - 1) / Math.max(epochs - 1, 1);
  };

  // The epoch nearest to a pointer event's position (null off the chart).
  Chart.prototype.epochAt = function (event, epochs) {
    const rect = this.svg.getBoundingClientRect();
    if (!rect.width) return null;
    const vx = (event.clientX - rect.left) * this.width / rect.width;
    const right = this.width - BOX.right;
    const e = 1 + Math.round((vx - BOX.left) / (right - BOX.left) * (epochs - 1));
    return Math.min(epochs, Math.max(1, e));
  };

  // spec: { epochs, epoch, yLabel, fromZero, runs: [{ run, index, values, band, drops }] }
  Chart.prototype.draw = function (spec) {
    const shown = this.svg.getBoundingClientRect().width;
    const width = shown > 0 ? Math.min(BOX.width, Math.max(320, Math.round(shown))) : BOX.width;
    this.width = width;
    this.svg.setAttribute("viewBox", "0 0 " + width + " " + BOX.height);
    this.xLabel.setAttribute("x", (BOX.left + width - BOX.right) / 2);
    this.yLabel.textContent = spec.yLabel;
    const right = width - BOX.right, bottom = BOX.height - BOX.bottom;
    const epochs = spec.epochs;
    const self = this;
    const x = function (e) { return self.x(e, epochs); };

    // The y range holds every value drawn, bands included.
    let lo = Infinity, hi = -Infinity;
    spec.runs.forEach(function (r) {
      const lists = r.band ? [r.values, r.band[0], r.band[1]] : [r.values];
      lists.forEach(function (list) {
        list.forEach(function (v) {
          if (v === null) return;
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        });
      });
    });
    if (lo === Infinity) { lo = 0; hi = 1; }
    if (spec.fromZero) lo = Math.min(lo, 0);
    const yStep = tickStep((hi - lo) || Math.abs(hi) || 1, 4);
    let yMin = Math.floor(lo / yStep + 1e-9) * yStep;
    let yMax = Math.ceil(hi / yStep - 1e-9) * yStep;
    if (yMax <= yMin) yMax = yMin + yStep;
    const y = function (v) { return bottom - (bottom - BOX.top) * (v - yMin) / (yMax - yMin); };

    const axes = this.axes;
    clear(axes);
    const decimals = Math.max(0, -Math.floor(Math.log10(yStep) + 1e-9));
    for (let i = 0; yMin + i * yStep <= yMax + yStep * 1e-6; i++) {
      const v = yMin + i * yStep, py = y(v).toFixed(2);
      svgElement("line", { class: "d2l-results-grid", x1: BOX.left, x2: right, y1: py, y2: py },
                 axes);
      // toFixed of a tiny negative (rounding of yMin + i * yStep) would read "-0.0"
      svgElement("text", { class: "d2l-results-tick", x: BOX.left - 6, y: py, dy: "0.32em",
                           "text-anchor": "end" }, axes).textContent =
        window.d2lExplorerNumber((Math.abs(v) < yStep * 1e-6 ? 0 : v).toFixed(decimals));
    }
    const xStep = Math.max(1, Math.round(tickStep(Math.max(epochs - 1, 1), width < 480 ? 4 : 6)));
    for (let e = 1; e <= epochs; e = e === 1 && xStep > 1 ? xStep : e + xStep) {
      const px = x(e).toFixed(2);
      svgElement("line", { class: "d2l-results-grid", x1: px, x2: px, y1: BOX.top, y2: bottom },
                 axes);
      svgElement("text", { class: "d2l-results-tick", x: px, y: bottom + 18,
                           "text-anchor": "middle" }, axes).textContent = String(e);
    }
    svgElement("line", { class: "d2l-results-axis", x1: BOX.left, x2: right, y1: bottom,
                         y2: bottom }, axes);
    svgElement("line", { class: "d2l-results-axis", x1: BOX.left, x2: BOX.left, y1: BOX.top,
                         y2: bottom }, axes);

    [this.bands, this.lines, this.dots, this.drops].forEach(clear);
    const px = x(spec.epoch).toFixed(2);
    let row = 0;
    spec.runs.forEach(function (r) {
      const colour = "d2l-results-c" + r.index;
      if (r.band) {
        svgElement("path", { class: "d2l-results-band-area " + colour, "data-run": r.run,
                             d: bandPath(r.band[0], r.band[1], x, y) }, self.bands);
      }
      // The exact values drawn, for readers' tools and the book's tests
      svgElement("path", { class: "d2l-results-line " + colour, "data-run": r.run,
                           "data-values": JSON.stringify(r.values),
                           d: linePath(r.values, x, y) }, self.lines);
      const v = r.values[spec.epoch - 1];
      if (v !== null && v !== undefined) {
        svgElement("circle", { class: "d2l-results-dot " + colour, r: 4.5, cx: px,
                               cy: y(v).toFixed(2) }, self.dots);
      }
      // A downward triangle per drop, in the run's row under the epoch ticks (a row
      // for each shown run whose rate drops at all)
      if (!r.drops.length) return;
      const top = bottom + DROP_ROW.first + row++ * DROP_ROW.step, s = DROP_ROW.size;
      r.drops.forEach(function (e) {
        const cx = x(e);
        svgElement("path", { class: "d2l-results-drop " + colour, "data-run": r.run,
                             "data-epoch": e,
                             d: "M" + (cx - s / 2).toFixed(2) + "," + top + " L" +
                                (cx + s / 2).toFixed(2) + "," + top + " L" + cx.toFixed(2) +
                                "," + (top + s) + " Z" }, self.drops);
      });
    });
    this.guide.setAttribute("x1", px);
    this.guide.setAttribute("x2", px);
    this.guide.setAttribute("y1", BOX.top);
    this.guide.setAttribute("y2", bottom);
  };

  // --- the page's framework: sphinx-design's synced tabs, else ?framework=, else storage

  function tabLabels() {
    return Array.prototype.filter.call(
      document.querySelectorAll(".sd-tab-set > input + label[data-sync-group]"),
      function (label) { return label.getAttribute("data-sync-group") === SYNC_GROUP; });
  }

  function checkedFramework() {
    const checked = document.querySelector(
      ".sd-tab-set > input:checked + label[data-sync-group='" + SYNC_GROUP + "']");
    return checked ? checked.getAttribute("data-sync-id") : null;
  }

  // What sphinx-design's ready() will choose: ?framework=, else the stored choice, else
  // the tab checked in the markup. Once ready() has run, the checked tab says it all.
  function pageFramework() {
    const fromUrl = new URLSearchParams(window.location.search).get(SYNC_GROUP);
    if (fromUrl) return fromUrl;
    try {
      const stored = window.localStorage.getItem(STORAGE_KEY);
      if (stored) return stored;
    } catch (err) {
      // no storage (blocked site data): the tabs alone
    }
    return checkedFramework();
  }

  const explorers = [];

  function followFramework(framework) {
    explorers.forEach(function (explorer) { explorer.setFramework(framework); });
  }

  // Choosing a framework in an explorer chooses its tab, so the page's code, outputs
  // and every explorer agree (sphinx-design syncs the other tab-sets and stores it).
  function chooseFramework(framework) {
    const label = tabLabels().filter(function (l) {
      return l.getAttribute("data-sync-id") === framework;
    })[0];
    if (label && !label.previousElementSibling.checked) {
      label.previousElementSibling.click();
    } else {
      followFramework(framework);
    }
  }

  function Explorer(root) {
    const self = this;
    this.root = root;
    this.data = JSON.parse(root.querySelector("script.d2l-results-data").textContent);
    this.metric = root.querySelector("select[name=metric]");
    this.frameworkMenu = root.querySelector("select[name=framework]");
    this.band = root.querySelector("input[name=band]");
    this.note = root.querySelector(".d2l-results-note");
    this.epoch = root.querySelector("input[name=epoch]");
    this.epochOut = root.querySelector("output[for='" + this.epoch.id + "']");
    this.readout = root.querySelector(".d2l-results-readout");
    this.state = root.querySelector(".d2l-results-state");
    this.boxes = Array.prototype.slice.call(root.querySelectorAll("input[name=run]"));
    this.runLabels = {};
    this.boxes.forEach(function (box) {
      self.runLabels[box.value] = box.parentElement.querySelector("span").textContent;
    });
    this.chart = new Chart(root.querySelector("svg.d2l-results-chart"), root.dataset.labelEpoch);
    const frameworks = this.data.frameworks;
    const wanted = pageFramework();
    this.framework = frameworks.indexOf(wanted) >= 0 ? wanted : frameworks[0];
    this.frameworkMenu.value = this.framework;

    root.addEventListener("change", function (event) {
      if (event.target === self.frameworkMenu) chooseFramework(self.frameworkMenu.value);
      else self.update();
    });
    root.addEventListener("input", function (event) {
      if (event.target !== self.frameworkMenu) self.update();
    });
    const svg = this.chart.svg;
    function point(event) {
      const e = self.chart.epochAt(event, self.epochs());
      if (e !== null && String(e) !== self.epoch.value) {
        self.epoch.value = String(e);
        self.update();
      }
    }
    svg.addEventListener("pointermove", point);
    svg.addEventListener("pointerdown", point);
    window.addEventListener("resize", function () { self.update(); });
    this.update();
  }

  Explorer.prototype.setFramework = function (framework) {
    if (this.data.frameworks.indexOf(framework) < 0 || framework === this.framework) return;
    this.framework = framework;
    this.frameworkMenu.value = framework;
    this.update();
  };

  Explorer.prototype.epochs = function () {
    const runs = this.data.series[this.framework];
    return Math.max.apply(null, Object.keys(runs).map(function (run) {
      return runs[run].lr.length;
    }));
  };

  Explorer.prototype.update = function () {
    const self = this, data = this.data, fw = this.framework;
    const metric = this.metric.value;
    const isRate = data.lrMetrics.indexOf(metric) >= 0;
    const bands = data.bands && data.bands[fw];
    this.band.disabled = !bands;
    this.note.hidden = Boolean(bands);
    const showBands = Boolean(bands) && this.band.checked;
    const epochs = this.epochs();
    this.epoch.max = String(epochs);
    if (Number(this.epoch.value) > epochs) this.epoch.value = String(epochs);
    const epoch = Number(this.epoch.value);
    this.epochOut.value = String(epoch);
    // Read as "27 / 30" rather than a bare number; the readout below is not a live
    // region (every slider step would announce every run), a reader goes to it
    this.epoch.setAttribute("aria-valuetext", epoch + " / " + epochs);

    const runs = this.boxes.filter(function (box) { return box.checked; }).map(function (box) {
      const run = box.value;
      const band = showBands && bands[run] ? bands[run][metric] : null;
      return { run: run, index: Number(box.dataset.index), values: data.series[fw][run][metric],
               band: band, drops: data.drops[fw][run] };
    });
    const metricLabel = this.metric.selectedOptions[0].textContent;
    const fwLabel = this.frameworkMenu.selectedOptions[0].textContent;
    this.chart.draw({ epochs: epochs, epoch: epoch, yLabel: metricLabel, fromZero: isRate,
                      runs: runs });
    this.state.textContent = "(" + metricLabel + ", " + fwLabel + ")";

    // The readout: the epoch, then every shown run's value (and range over the seeds),
    // then the shown runs whose learning rate dropped at this epoch.
    const readout = this.readout;
    clear(readout);
    const head = document.createElement("p");
    head.className = "d2l-results-readout-head";
    head.textContent = this.root.dataset.labelEpoch + ": " + epoch + " \u00b7 " + metricLabel +
      " \u00b7 " + fwLabel;
    readout.appendChild(head);
    const list = document.createElement("ul");
    runs.forEach(function (r) {
      const v = r.values[epoch - 1];
      const item = document.createElement("li");
      item.dataset.run = r.run;
      item.dataset.value = v === null ? "null" : String(v);
      const swatch = svgElement("svg", { class: "d2l-results-swatch d2l-results-c" + r.index,
                                         viewBox: "0 0 28 10", "aria-hidden": "true",
                                         focusable: "false" }, item);
      svgElement("line", { x1: 1, y1: 5, x2: 27, y2: 5 }, swatch);
      item.appendChild(document.createTextNode(" " + self.runLabels[r.run] + ": "));
      const value = document.createElement("strong");
      value.className = "d2l-results-value";
      value.textContent = window.d2lExplorerNumber(formatValue(v, isRate));
      item.appendChild(value);
      if (r.band) {
        const range = document.createElement("span");
        range.className = "d2l-results-range";
        const low = formatValue(r.band[0][epoch - 1], isRate);
        const high = formatValue(r.band[1][epoch - 1], isRate);
        range.textContent = " (" + window.d2lExplorerNumber(low) + "\u2013" +
          window.d2lExplorerNumber(high) + ")";
        item.appendChild(range);
      }
      list.appendChild(item);
    });
    readout.appendChild(list);
    const dropped = runs.filter(function (r) { return r.drops.indexOf(epoch) >= 0; });
    if (dropped.length) {
      const drops = document.createElement("p");
      drops.className = "d2l-results-readout-drops";
      drops.textContent = this.root.dataset.labelLrDrops + ": " +
        dropped.map(function (r) { return self.runLabels[r.run]; }).join(", ");
      readout.appendChild(drops);
    }
  };

  window.d2lResultsExplorer = { formatValue: formatValue, explorers: explorers };

  function start() {
    document.querySelectorAll("[data-d2l-results-explorer]").forEach(function (root) {
      explorers.push(new Explorer(root));
    });
    // A tab chosen by the reader (sphinx-design checks the other tab-sets' inputs
    // without events, so the changed input is the one to read)
    document.addEventListener("change", function (event) {
      const input = event.target;
      if (!input.matches || !input.matches(".sd-tab-set > input") || !input.checked) return;
      const label = input.nextElementSibling;
      if (label && label.getAttribute("data-sync-group") === SYNC_GROUP) {
        followFramework(label.getAttribute("data-sync-id"));
      }
    });
    // sphinx-design opens the tab a URL fragment points into
    window.addEventListener("hashchange", function () {
      window.setTimeout(function () { followFramework(checkedFramework()); }, 0);
    });
    // Draw now (a deferred script runs once the page is parsed) with the framework
    // sphinx-design is about to choose, then follow the tabs it has set: its ready()
    // runs on DOMContentLoaded, which may come after this script.
    // Its order against this script is not fixed (seen on a busy machine: the checked
    // tab was still the markup's), so follow what it will choose, as the first drawing
    // did; only a URL fragment, which opens the tab it points into, needs the tab read.
    function afterTabs() {
      window.setTimeout(function () {
        followFramework(window.location.hash ? checkedFramework() : pageFramework());
      }, 0);
    }
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", afterTabs);
    } else {
      afterTabs();
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
