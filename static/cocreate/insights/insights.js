/* Draws the insights charts with Chart.js from the JSON the page embeds (id="insights-data").
   The same numbers are in the table under each chart; a missing value (null) is a gap, never a zero. */
(function () {
  "use strict";

  var PALETTE = ["#2457c5", "#d97706", "#0f9d58", "#a21caf", "#dc2626", "#0891b2", "#65a30d", "#7c3aed"];
  var TIER_COLOURS = { Gold: "#c59b08", Silver: "#8a94a6", Bronze: "#a0522d" };

  function colour(label, index) {
    return TIER_COLOURS[label] || PALETTE[index % PALETTE.length];
  }

  function config(spec) {
    var horizontal = Boolean(spec.horizontal);
    var datasets = spec.datasets.map(function (dataset, index) {
      var c = colour(dataset.label, index);
      return {
        label: dataset.label,
        data: dataset.data,
        backgroundColor: spec.type === "line" ? c : c + "cc",
        borderColor: c,
        borderWidth: spec.type === "line" ? 2 : 1,
        spanGaps: false,
        pointRadius: 3
      };
    });
    var valueAxis = { beginAtZero: true, stacked: Boolean(spec.stacked) };
    if (typeof spec.min === "number") { valueAxis.min = spec.min; valueAxis.beginAtZero = false; }
    if (typeof spec.max === "number") { valueAxis.max = spec.max; }
    var labelAxis = { stacked: Boolean(spec.stacked), ticks: { autoSkip: true } };
    return {
      type: spec.type || "bar",
      data: { labels: spec.labels, datasets: datasets },
      options: {
        indexAxis: horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches ? false : undefined,
        plugins: { legend: { display: datasets.length > 1, position: "bottom" } },
        scales: horizontal ? { x: valueAxis, y: labelAxis } : { x: labelAxis, y: valueAxis }
      }
    };
  }

  function draw() {
    var source = document.getElementById("insights-data");
    if (!source || typeof window.Chart === "undefined") { return; }
    var specs = JSON.parse(source.textContent);
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var spec = specs[canvas.getAttribute("data-chart")];
      if (!spec) { return; }
      var chart = new window.Chart(canvas, config(spec));
      canvas.setAttribute("data-drawn", "true");
      canvas.chart = chart;
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
