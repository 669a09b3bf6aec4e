// The voice-of-the-consumer dashboard: each report's chart (Chart.js, served from the console's own
// static files) and its table, from /api/insights/*; a click on a point or a row lists the contacts
// behind it. Everything is drawn with textContent, never as HTML.
"use strict";

const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
  "#bcbd22", "#17becf"];
const charts = {};
const $ = (id) => document.getElementById(id);

function say(text) {
  const box = $("message");
  box.textContent = text;
  box.hidden = !text;
}

async function getJson(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" }, credentials: "same-origin" });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || `${response.status} ${response.statusText}`);
  return body;
}

function query(params) {
  return new URLSearchParams(Object.entries(params).filter(([, v]) => v !== "" && v !== undefined));
}

function addDays(day, n) {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

function weeks() { return $("weeks").value; }

function tableRows(id, rows, onPick) {
  const body = $(id);
  body.replaceChildren();
  for (const { cells, slice, above } of rows) {
    const tr = document.createElement("tr");
    if (above) tr.className = "above";
    for (const cell of cells) {
      const td = document.createElement("td");
      td.textContent = cell;
      tr.append(td);
    }
    if (slice) tr.addEventListener("click", () => onPick(slice));
    body.append(tr);
  }
}

// One chart per canvas, redrawn in place; a click on an element opens its slice.
function draw(name, config, sliceOf) {
  if (charts[name]) charts[name].destroy();
  config.options = {
    responsive: true, maintainAspectRatio: false, animation: false,
    plugins: { legend: { display: true, position: "top" } },
    onClick: (event, elements) => {
      const slice = elements.length ? sliceOf(elements[0].datasetIndex, elements[0].index) : null;
      if (slice) drill(slice);
    },
    ...config.options,
  };
  charts[name] = new window.Chart($(`chart-${name}`), config);
}

function csvLink(id, path, params) {
  $(id).href = `${path}?${query({ ...params, format: "csv" })}`;
}

// A bar of contacts without a product or region ("(none)") cannot be asked for: an empty field of a
// slice does not narrow it.
function volumeSlice(by, key, week, issueCode) {
  if (key === "(none)") return null;
  const field = { issue: "issue_code", product: "sku", region: "region", channel: "channel" }[by];
  return { issue_code: issueCode || "", [field]: key, start: week, end: addDays(week, 6),
    label: `${key}, week of ${week}` };
}

async function drawVolumes(name, path, by, issueCode, params) {
  const reply = await getJson(`${path}?${query(params)}`);
  const datasets = reply.keys.map((key, i) => ({
    label: key,
    data: reply.weeks.map((w) => (reply.points.find((p) => p.week === w && p.key === key) || {}).contacts || 0),
    backgroundColor: COLOURS[i % COLOURS.length],
  }));
  draw(name, {
    type: "bar",
    data: { labels: reply.weeks, datasets },
    options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
  }, (d, i) => volumeSlice(by, reply.keys[d], reply.weeks[i], issueCode));
  const rows = reply.points.filter((p) => p.contacts > 0)
    .map((p) => ({ cells: [p.week, p.key, p.contacts], slice: volumeSlice(by, p.key, p.week, issueCode) }));
  tableRows(`table-${name}`, rows, drill);
  csvLink(`csv-${name}`, path, params);
}

function risingSlice(r) {
  return { sku: r.sku, region: r.region, issue_code: r.issue_code, start: r.period_start, end: r.period_end,
    label: `${r.sku} ${r.issue_code}${r.region ? ` in ${r.region}` : ""} since ${r.period_start}` };
}

async function drawRising() {
  const reply = await getJson("/api/insights/rising");
  $("threshold").textContent = reply.threshold;
  const issues = reply.issues;
  draw("rising", {
    type: "bar",
    data: {
      labels: issues.map((r) => `${r.sku} ${r.issue_code}${r.region ? ` (${r.region})` : ""}`),
      datasets: [
        { label: "GLR-CUSUM score this week", data: issues.map((r) => r.score),
          backgroundColor: issues.map((r) => (r.alarming ? "#d62728" : "#1f77b4")) },
        { label: `alarm threshold (${reply.threshold})`, type: "line", data: issues.map(() => reply.threshold),
          borderColor: "#000000", borderDash: [6, 4], pointRadius: 0 },
      ],
    },
    options: { indexAxis: "y", scales: { x: { beginAtZero: true } } },
  }, (d, i) => risingSlice(issues[i]));
  tableRows("table-rising", issues.map((r) => ({
    cells: [r.sku, r.region || "all", r.issue_code, r.observed, r.expected, r.score, r.period_start],
    slice: risingSlice(r), above: r.alarming,
  })), drill);
}

function cpmuSlice(sku, week) {
  return { sku, issue_code: "complaint", start: week, end: addDays(week, 6), label: `${sku} complaints, week of ${week}` };
}

let cpmuProducts = [];

function drawCpmuOf(sku) {
  const trend = cpmuProducts.find((t) => t.sku === sku);
  if (!trend) return;
  const points = trend.points;
  const unit = trend.no_sales ? "complaints (no sales data)" : "CPMU";
  draw("cpmu", {
    type: "line",
    data: {
      labels: points.map((p) => p.week),
      datasets: [
        { label: unit, data: points.map((p) => p.cpmu), borderColor: "#1f77b4", backgroundColor: "#1f77b4",
          pointBackgroundColor: points.map((p) => (p.above ? "#d62728" : "#1f77b4")), pointRadius: 4 },
        { label: "expected", data: points.map((p) => p.expected_cpmu), borderColor: "#2ca02c", pointRadius: 0 },
        { label: "upper control limit", data: points.map((p) => p.upper_cpmu), borderColor: "#d62728",
          borderDash: [6, 4], pointRadius: 0 },
      ],
    },
    options: { scales: { y: { beginAtZero: true } } },
  }, (d, i) => cpmuSlice(sku, points[i].week));
  tableRows("table-cpmu", points.map((p) => ({
    cells: [p.week, Math.round(p.units), p.observed, p.cpmu, p.expected_cpmu, p.upper_cpmu],
    slice: cpmuSlice(sku, p.week), above: p.above,
  })), drill);
  csvLink("csv-cpmu", "/api/insights/cpmu", { weeks: weeks(), sku });
}

async function drawCpmu() {
  const reply = await getJson(`/api/insights/cpmu?${query({ weeks: weeks() })}`);
  cpmuProducts = reply.products;
  const select = $("cpmu-sku");
  const chosen = select.value;
  select.replaceChildren(...cpmuProducts.map((t) => new Option(t.sku, t.sku)));
  // The product most above its limit lately comes first, unless one was chosen.
  const worst = [...cpmuProducts].sort((a, b) => b.points.filter((p) => p.above).length
    - a.points.filter((p) => p.above).length)[0];
  select.value = cpmuProducts.some((t) => t.sku === chosen) ? chosen : (worst ? worst.sku : "");
  drawCpmuOf(select.value);
}

async function drill(slice) {
  const params = { sku: slice.sku, lot_code: slice.lot_code, region: slice.region, channel: slice.channel,
    issue_code: slice.issue_code, start: slice.start, end: slice.end };
  const reply = await getJson(`/api/insights/contacts?${query(params)}`).catch((e) => { say(e.message); });
  if (!reply) return;
  $("drill").hidden = false;
  $("drill-what").textContent = slice.label || "";
  $("drill-count").textContent = `${reply.total} contacts; ${reply.shown} of their cases shown`
    + (reply.redacted ? ", personal data removed" : "");
  tableRows("drill-rows", reply.contacts.map((c) => ({
    cells: [c.received_on, c.reference, c.sku, c.lot_code, c.region, c.issue_code, c.channel, c.reporter,
      c.verbatim],
  })), () => {});
  $("drill-rows").dataset.count = String(reply.contacts.length);
  csvLink("csv-drill", "/api/insights/contacts", params);
  $("drill").scrollIntoView({ block: "nearest" });
}

async function drawAll() {
  if (!window.Chart) {
    say("The chart library is not installed: run `make run` (its set-up installs it with npm).");
    return;
  }
  const by = $("volumes-by").value;
  try {
    await Promise.all([
      drawVolumes("volumes", "/api/insights/volumes", by, "", { by, weeks: weeks() }),
      drawRising(),
      drawVolumes("praise", "/api/insights/praise", "product", "compliment", { weeks: weeks() }),
      drawCpmu(),
    ]);
    document.body.dataset.drawn = "yes";
  } catch (e) {
    say(e.message);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("weeks").addEventListener("change", drawAll);
  $("volumes-by").addEventListener("change", drawAll);
  $("cpmu-sku").addEventListener("change", () => drawCpmuOf($("cpmu-sku").value));
  drawAll();
});
