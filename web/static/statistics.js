// The statistics page's charts (issue 19): each div[data-chart] draws the JSON of the
// <script type="application/json"> it names with ECharts; the numbers are also the table
// below each chart, which is the chart's text alternative.
(function () {
  "use strict";

  function option(spec) {
    var series = spec.series.map(function (s) {
      var item = { name: s.name, type: "bar", data: s.data };
      if (spec.stack) { item.stack = "total"; }
      return item;
    });
    if (spec.floor && series.length) {
      series[0].markLine = {
        symbol: "none", silent: true,
        label: { formatter: "下限 " + spec.floor + "%", position: "insideEndTop" },
        data: [{ yAxis: spec.floor }]
      };
    }
    return {
      animation: false,
      aria: { enabled: true },
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 48, right: 24, top: 40, bottom: 64 },
      xAxis: { type: "category", data: spec.categories, axisLabel: { interval: 0, rotate: spec.categories.length > 6 ? 30 : 0 } },
      yAxis: {
        type: "value", name: spec.unit,
        // the floor's line stays in sight when every month is far below it
        max: spec.floor ? function (extent) { return Math.max(extent.max, spec.floor * 1.5); } : null
      },
      series: series
    };
  }

  function draw() {
    if (!window.echarts) { return; }
    document.querySelectorAll("[data-chart]").forEach(function (node) {
      var source = document.getElementById(node.getAttribute("data-chart"));
      if (!source) { return; }
      var spec = JSON.parse(source.textContent);
      if (!spec.categories.length) { node.hidden = true; return; }
      var chart = window.echarts.init(node);
      chart.setOption(option(spec));
      node.setAttribute("data-drawn", "yes");
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
}());
