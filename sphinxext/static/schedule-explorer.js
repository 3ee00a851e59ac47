// The schedule explorer of the chapter page (markup: sphinxext/schedule_explorer.py).
// It computes the learning rate per epoch with the formulas of the chapter's schedulers,
// draws it as an SVG line chart and reads out the rate at the chosen epoch. Plain
// script, no network: it works from any static server and from file://.
(function () {
  "use strict";

  // Learning rate at epoch t (0, 1, 2, ...) of the schedule `p`, with the same
  // operations in the same order as the chapter's Python schedulers:
  // p.schedule is "square-root", "factor", "multi-factor", "cosine" or "warmup";
  // the other fields are the schedulers' arguments (p.steps: the multi-factor steps).
  function learningRate(p, t) {
    switch (p.schedule) {
      case "square-root":  // SquareRootScheduler(lr=base_lr)
        return p.base_lr * Math.pow(t + 1.0, -0.5);
      case "factor":  // FactorScheduler(factor, stop_factor_lr, base_lr)
        return Math.max(p.stop_factor_lr, p.base_lr * Math.pow(p.factor, t));
      case "multi-factor": {  // MultiFactorScheduler(step, factor, base_lr)
        const decays = p.steps.filter(function (s) { return s <= t; }).length;
        return p.base_lr * Math.pow(p.factor, decays);
      }
      case "cosine":  // CosineScheduler(max_update, base_lr, final_lr)
      case "warmup": {  // ... with warmup_steps (and warmup_begin_lr, default 0)
        const warmup = p.schedule === "warmup" ? p.warmup_steps : 0;
        const begin = p.warmup_begin_lr || 0;
        if (t < warmup) return begin + (p.base_lr - begin) * t / warmup;
        const u = Math.min(t, p.max_update);
        return p.final_lr + (p.base_lr - p.final_lr) *
          (1 + Math.cos(Math.PI * (u - warmup) / (p.max_update - warmup))) / 2;
      }
      default:
        throw new Error("unknown schedule " + p.schedule);
    }
  }

  // The learning rates of epochs 0 .. numEpochs - 1.
  function schedule(p, numEpochs) {
    const lrs = [];
    for (let t = 0; t < numEpochs; t++) lrs.push(learningRate(p, t));
    return lrs;
  }

  // A rate as the readout shows it: six significant digits, no trailing zeros.
  function formatRate(x) {
    return String(Number(x.toPrecision(6)));
  }

  // A round tick spacing (1, 2 or 5 times a power of ten) giving about `count` ticks.
  function tickStep(span, count) {
    const raw = span / count;
    const magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
    const norm = raw / magnitude;
    return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * magnitude;
  }

  const SVG = "http://www.w3.org/2000/svg";
  // Chart layout in SVG units. The width follows the chart's width on screen (within
  // 320..640), so that its text keeps its size on a phone instead of shrinking.
  const BOX = { width: 640, height: 320, left: 64, right: 16, top: 14, bottom: 48 };

  function svgElement(name, attrs, parent) {
    const el = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (key) { el.setAttribute(key, attrs[key]); });
    if (parent) parent.appendChild(el);
    return el;
  }

  function Chart(svg, xLabel, yLabel) {
    this.svg = svg;
    this.axes = svgElement("g", { class: "d2l-explorer-axes" }, svg);
    this.curve = svgElement("polyline", { class: "d2l-explorer-curve" }, svg);
    this.guide = svgElement("line", { class: "d2l-explorer-guide" }, svg);
    this.marker = svgElement("circle", { class: "d2l-explorer-marker", r: 5 }, svg);
    this.xLabel = svgElement("text", { class: "d2l-explorer-axis-label", y: BOX.height - 6,
                                       "text-anchor": "middle" }, svg);
    this.xLabel.textContent = xLabel;
    const midY = (BOX.top + BOX.height - BOX.bottom) / 2;
    svgElement("text", { class: "d2l-explorer-axis-label", x: 0, y: 0,
                         transform: "translate(16 " + midY + ") rotate(-90)",
                         "text-anchor": "middle" }, svg).textContent = yLabel;
  }

  Chart.prototype.draw = function (lrs, epoch) {
    const shown = this.svg.getBoundingClientRect().width;
    const width = shown > 0 ? Math.min(BOX.width, Math.max(320, Math.round(shown))) : BOX.width;
    this.svg.setAttribute("viewBox", "0 0 " + width + " " + BOX.height);
    this.xLabel.setAttribute("x", (BOX.left + width - BOX.right) / 2);
    const right = width - BOX.right, bottom = BOX.height - BOX.bottom;
    const xMax = Math.max(lrs.length - 1, 1);
    const yStep = tickStep(Math.max.apply(null, lrs) || 1, 4);
    const yMax = Math.ceil(Math.max.apply(null, lrs) / yStep - 1e-9) * yStep || yStep;
    const x = function (t) { return BOX.left + (right - BOX.left) * t / xMax; };
    const y = function (v) { return bottom - (bottom - BOX.top) * v / yMax; };
    const axes = this.axes;
    while (axes.firstChild) axes.removeChild(axes.firstChild);
    const decimals = Math.max(0, -Math.floor(Math.log10(yStep) + 1e-9));
    for (let i = 0; i * yStep <= yMax * (1 + 1e-9); i++) {
      const py = y(i * yStep).toFixed(2);
      svgElement("line", { class: "d2l-explorer-grid", x1: BOX.left, x2: right, y1: py, y2: py },
                 axes);
      svgElement("text", { class: "d2l-explorer-tick", x: BOX.left - 6, y: py, dy: "0.32em",
                           "text-anchor": "end" }, axes).textContent =
        window.d2lExplorerNumber((i * yStep).toFixed(decimals));
    }
    const xStep = Math.max(1, Math.round(tickStep(xMax, width < 480 ? 4 : 6)));
    for (let t = 0; t <= lrs.length - 1; t += xStep) {
      const px = x(t).toFixed(2);
      svgElement("line", { class: "d2l-explorer-grid", x1: px, x2: px, y1: BOX.top, y2: bottom },
                 axes);
      svgElement("text", { class: "d2l-explorer-tick", x: px, y: bottom + 18,
                           "text-anchor": "middle" }, axes).textContent = String(t);
    }
    svgElement("line", { class: "d2l-explorer-axis", x1: BOX.left, x2: right, y1: bottom,
                         y2: bottom }, axes);
    svgElement("line", { class: "d2l-explorer-axis", x1: BOX.left, x2: BOX.left, y1: BOX.top,
                         y2: bottom }, axes);
    this.curve.setAttribute("points", lrs.map(function (v, t) {
      return x(t).toFixed(2) + "," + y(v).toFixed(2);
    }).join(" "));
    // The exact values drawn, for readers' tools and the book's tests
    this.curve.setAttribute("data-lrs", JSON.stringify(lrs));
    const px = x(epoch).toFixed(2), py = y(lrs[epoch]).toFixed(2);
    this.guide.setAttribute("x1", px);
    this.guide.setAttribute("x2", px);
    this.guide.setAttribute("y1", BOX.top);
    this.guide.setAttribute("y2", bottom);
    this.marker.setAttribute("cx", px);
    this.marker.setAttribute("cy", py);
  };

  function Explorer(root) {
    this.root = root;
    this.inputs = {};
    const self = this;
    root.querySelectorAll("input[type=range], select").forEach(function (el) {
      self.inputs[el.name] = el;
    });
    this.chart = new Chart(root.querySelector("svg"), root.dataset.labelEpoch,
                           root.dataset.labelLr);
    this.readout = root.querySelector(".d2l-explorer-lr-value");
    root.addEventListener("input", function () { self.update(); });
    root.addEventListener("change", function () { self.update(); });
    window.addEventListener("resize", function () { self.update(); });
    this.update();
  }

  Explorer.prototype.value = function (name) {
    return Number(this.inputs[name].value);
  };

  // Narrow a range input's limit and keep its value inside it.
  Explorer.prototype.limit = function (name, attr, bound) {
    const input = this.inputs[name];
    input[attr] = String(bound);
    const v = Number(input.value);
    if (attr === "max" && v > bound) input.value = String(bound);
    if (attr === "min" && v < bound) input.value = String(bound);
  };

  Explorer.prototype.params = function () {
    return {
      schedule: this.inputs.schedule.value,
      base_lr: this.value("base_lr"),
      final_lr: this.value("final_lr"),
      factor: this.value("factor"),
      stop_factor_lr: this.value("stop_factor_lr"),
      steps: [this.value("step_1"), this.value("step_2")],
      max_update: this.value("max_update"),
      warmup_steps: this.value("warmup_steps"),
      warmup_begin_lr: 0,
    };
  };

  Explorer.prototype.update = function () {
    // The limits that depend on another value: only settings the schedulers accept.
    this.limit("final_lr", "max", this.value("base_lr"));
    this.limit("stop_factor_lr", "max", this.value("base_lr"));
    this.limit("step_1", "max", this.value("step_2") - 1);
    this.limit("step_2", "min", this.value("step_1") + 1);
    this.limit("warmup_steps", "max", this.value("max_update") - 1);
    this.limit("epoch", "max", this.value("num_epochs") - 1);
    const p = this.params();
    this.root.querySelectorAll(".d2l-explorer-row[data-schedules]").forEach(function (row) {
      row.hidden = row.dataset.schedules.split(" ").indexOf(p.schedule) < 0;
    });
    this.root.querySelectorAll("output[data-decimals]").forEach(function (out) {
      const input = document.getElementById(out.htmlFor.value);
      out.value = window.d2lExplorerNumber(
        Number(input.value).toFixed(Number(out.dataset.decimals)));
    });
    const lrs = schedule(p, this.value("num_epochs"));
    const epoch = this.value("epoch");
    this.chart.draw(lrs, epoch);
    this.readout.value = window.d2lExplorerNumber(formatRate(lrs[epoch]));
  };

  window.d2lScheduleExplorer = { learningRate: learningRate, schedule: schedule,
                                 formatRate: formatRate };

  function start() {
    document.querySelectorAll("[data-d2l-schedule-explorer]").forEach(function (root) {
      new Explorer(root);
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
