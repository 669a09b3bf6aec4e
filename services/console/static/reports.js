// The operational reports page: the report chosen, grouped and over a period (kept in the address, so a
// link shows the same figures), drawn as a bar chart (Chart.js, the console's own static file) of the
// columns insights says to chart, with every figure in the table and a CSV of the same query.
// Everything is written with textContent, never as HTML.
"use strict";

const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];
const $ = (id) => document.getElementById(id);
let chart = null;

function say(text) {
  $("message").textContent = text;
  $("message").hidden = !text;
}

async function getJson(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" }, credentials: "same-origin" });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || `${response.status} ${response.statusText}`);
  return body;
}

function chosen() {
  const params = { by: $("report-by").value, since: $("report-since").value, until: $("report-until").value };
  return new URLSearchParams(Object.entries(params).filter(([, v]) => v));
}

function cell(tag, text) {
  const element = document.createElement(tag);
  element.textContent = text;
  return element;
}

function drawTable(report) {
  $("head-report").replaceChildren(cell("th", report.by || "group"), ...report.columns.map((c) => cell("th", c)));
  $("rows-report").replaceChildren(...report.rows.map((row) => {
    const tr = document.createElement("tr");
    tr.append(cell("td", row.key), ...row.values.map((v) => cell("td", v === null ? "" : String(v))));
    return tr;
  }));
}

// One bar per group (the "(all)" row alone when the report is not grouped), one series per charted column.
function drawChart(report) {
  const rows = report.rows.length > 1 ? report.rows.filter((r) => r.key !== "(all)") : report.rows;
  const datasets = report.chart.map((column, i) => {
    const at = report.columns.indexOf(column);
    return { label: column, data: rows.map((r) => r.values[at]), backgroundColor: COLOURS[i % COLOURS.length] };
  });
  if (chart) chart.destroy();
  chart = new window.Chart($("chart-report"), {
    type: "bar",
    data: { labels: rows.map((r) => r.key), datasets },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false,
      plugins: { legend: { display: true, position: "top" } }, scales: { y: { beginAtZero: true } },
    },
  });
}

async function show() {
  const name = $("report-name").value;
  const params = chosen();
  history.replaceState(null, "", `?${new URLSearchParams({ name, ...Object.fromEntries(params) })}`);
  try {
    const report = await getJson(`/api/insights/reports/${encodeURIComponent(name)}?${params}`);
    $("report-title").textContent = report.title;
    params.set("format", "csv");
    $("csv-report").href = `/api/insights/reports/${encodeURIComponent(name)}?${params}`;
    drawTable(report);
    drawChart(report);
    say("");
    document.body.dataset.drawn = "yes";
  } catch (error) {
    say(`The report could not be shown: ${error.message}`);
  }
}

async function start() {
  const asked = new URLSearchParams(location.search);
  try {
    const { reports } = await getJson("/api/insights/reports");
    $("report-name").replaceChildren(...reports.map((r) => {
      const option = cell("option", r.title);
      option.value = r.name;
      return option;
    }));
  } catch (error) {
    say(`The reports could not be listed: ${error.message}`);
    return;
  }
  for (const [field, id] of [["name", "report-name"], ["by", "report-by"], ["since", "report-since"],
    ["until", "report-until"]]) {
    if (asked.get(field)) $(id).value = asked.get(field);
  }
  $("report-filters").addEventListener("submit", (event) => { event.preventDefault(); show(); });
  $("report-name").addEventListener("change", show);
  $("report-by").addEventListener("change", show);
  await show();
}

document.addEventListener("DOMContentLoaded", start);
