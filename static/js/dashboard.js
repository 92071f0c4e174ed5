/* Dashboard charts: one Chart.js chart per <canvas data-chart="<id>">, its settings in the
   <script type="application/json" id="<id>"> beside it (claims/dashboards/charts.py). The table
   under each chart carries the same figures for screen readers and exports. Charts are drawn on
   page load and again whenever htmx swaps in new figures after a filter change. */
(function () {
  "use strict";

  var PALETTE = ["#1f5fbf", "#d98200", "#2e8b57", "#b03a48", "#6a4fb3", "#0f8a9d", "#8c6d1f", "#5c6b7a"];

  function datasetStyle(index, type) {
    var colour = PALETTE[index % PALETTE.length];
    return {
      backgroundColor: type === "line" ? colour : colour + "cc",
      borderColor: colour,
      borderWidth: type === "line" ? 2 : 1,
      pointRadius: type === "line" ? 3 : 0,
      spanGaps: true,
    };
  }

  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source || typeof Chart === "undefined") {
      return;
    }
    var existing = Chart.getChart(canvas);
    if (existing) {
      existing.destroy();
    }
    var spec = JSON.parse(source.textContent);
    var datasets = spec.datasets.map(function (dataset, index) {
      return Object.assign({}, dataset, datasetStyle(index, spec.type));
    });
    var valueAxis = { beginAtZero: true, stacked: !!spec.stacked };
    if (spec.percent) {
      valueAxis.max = 100;
      valueAxis.ticks = { callback: function (value) { return value + "%"; } };
    }
    var categoryAxis = { stacked: !!spec.stacked };
    var scales = spec.horizontal ? { x: valueAxis, y: categoryAxis } : { x: categoryAxis, y: valueAxis };
    new Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        indexAxis: spec.horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: scales,
        plugins: { legend: { display: datasets.length > 1, position: "bottom" } },
      },
    });
  }

  function drawAll(root) {
    (root || document).querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  function destroyAll(root) {
    if (typeof Chart === "undefined") {
      return;
    }
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var chart = Chart.getChart(canvas);
      if (chart) {
        chart.destroy();
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawAll(document);
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    destroyAll(event.detail.target);
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    drawAll(event.detail.target);
  });
})();
