/* ECharts for the report pages. Data comes from the json_script block #rp-data (no inline script). */
(function () {
  "use strict";
  var node = document.getElementById("rp-data");
  if (!node || !window.echarts) return;
  var data = JSON.parse(node.textContent);
  var charts = [];
  function chart(id, option) {
    var el = document.getElementById(id);
    if (!el) return;
    var c = echarts.init(el);
    c.setOption(option);
    charts.push(c);
    return c;
  }
  var colours = { valid: "#b91c1c", assist: "#f59e0b", invalid: "#94a3b8", unassessed: "#cbd5e1" };
  if (data.by_nature) {
    var pie = Object.keys(data.by_nature).filter(function (k) { return data.by_nature[k].count; }).map(function (k) {
      var v = data.by_nature[k];
      return { name: v.name, value: v.count, itemStyle: { color: colours[k] } };
    });
    chart("chart-nature", {
      title: { text: "投诉性质分布", left: "center", textStyle: { fontSize: 14 } },
      tooltip: { trigger: "item", formatter: "{b}：{c} 宗（{d}%）" },
      legend: { bottom: 0 },
      series: [{ type: "pie", radius: ["35%", "65%"], data: pie, label: { formatter: "{b}\n{c} 宗" } }]
    });
  }
  function bars(id, title, rows, colour) {
    rows = rows.slice().reverse();
    // A bar per row at a readable height: three offices do not need 560 px, twenty-five do.
    var el = document.getElementById(id);
    if (el) el.style.height = Math.max(160, 60 + 22 * rows.length) + "px";
    chart(id, {
      title: { text: title, left: "center", textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 8, right: 48, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: rows.map(function (r) { return r.name; }) },
      series: [{ type: "bar", data: rows.map(function (r) { return r.count; }), itemStyle: { color: colour },
                 label: { show: true, position: "right" } }]
    });
  }
  if (data.valid_by_category) bars("chart-category", "有效投诉按内容分类", data.valid_by_category, "#1d4ed8");
  if (data.valid_by_office && data.valid_by_office.length) bars("chart-office", "有效投诉按管理处", data.valid_by_office, "#b91c1c");
  if (data.trend) {
    // A month before the first complaint of the scope is null: a gap in the line, never a zero.
    var since = data.trend_since_label;
    chart("chart-trend", {
      title: { text: "近 12 个月投诉趋势", left: "center", textStyle: { fontSize: 14 },
               subtext: data.trend.some(function (m) { return m.total === null; })
                 ? (since ? "数据自" + since + "起，此前无数据" : "无数据")
                 : "",
               subtextStyle: { fontSize: 11, color: "#52606d" } },
      tooltip: { trigger: "axis" },
      legend: { bottom: 0 },
      grid: { left: 8, right: 16, top: 52, bottom: 32, containLabel: true },
      xAxis: { type: "category", data: data.trend.map(function (m) { return m.label; }) },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: "投诉总数", type: "line", data: data.trend.map(function (m) { return m.total; }), itemStyle: { color: "#1d4ed8" } },
        { name: "有效投诉", type: "line", data: data.trend.map(function (m) { return m.valid; }), itemStyle: { color: "#b91c1c" } }
      ]
    });
  }
  if (data.heatmap) {
    var h = data.heatmap;
    var max = h.cells.reduce(function (m, c) { return Math.max(m, c[2]); }, 1);
    var heat = chart("chart-heat", {
      tooltip: { formatter: function (p) { return h.offices[p.value[0]].name + " · " + h.categories[p.value[1]].name + "：" + p.value[2] + " 宗"; } },
      grid: { left: 8, right: 16, top: 8, bottom: 70, containLabel: true },
      xAxis: { type: "category", data: h.offices.map(function (o) { return o.name; }), axisLabel: { rotate: 45, interval: 0 } },
      yAxis: { type: "category", data: h.categories.map(function (c) { return c.name; }) },
      visualMap: { min: 0, max: max, calculable: true, orient: "horizontal", left: "center", bottom: 0,
                   inRange: { color: ["#eef2ff", "#1d4ed8"] } },
      series: [{ type: "heatmap", data: h.cells.map(function (c) { return [c[0], c[1], c[2]]; }), label: { show: true },
                 cursor: "pointer" }]
    });
    // A cell opens the list of those complaints (office, category, valid, the same 30 days).
    if (heat) heat.on("click", function (p) { var c = h.cells[p.dataIndex]; if (c && c[3]) window.location.href = c[3]; });
  }
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
