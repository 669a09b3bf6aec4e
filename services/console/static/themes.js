// The themes panel of the insights dashboard: verbatims grouped by theme (/api/insights/themes), a
// stacked bar chart of each theme's contacts per week, a table ranked by size or rise, and a drill-down
// from a theme (a bar, a legend entry or a row) to its contacts and their redacted verbatims.
// Everything is drawn with textContent, never as HTML.
"use strict";

(() => {
  const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#393b79", "#637939"];
  const $ = (id) => document.getElementById(id);
  let chart = null;
  let run = null;

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

  function params(extra) {
    const found = { sku: $("themes-sku").value.trim(), issue_prefix: $("themes-issue").value.trim(), ...extra };
    return new URLSearchParams(Object.entries(found).filter(([, v]) => v !== "" && v !== undefined));
  }

  function ranked(themes) {
    const key = $("themes-rank").value;
    return [...themes].sort((a, b) => (b[key] || 0) - (a[key] || 0) || (b.size || 0) - (a.size || 0));
  }

  function drawChart(themes) {
    const weeks = [...new Set(themes.flatMap((t) => (t.weeks || []).map((w) => w.week)))].sort();
    const datasets = themes.map((t, i) => ({
      label: `${t.id}. ${t.label}`,
      data: weeks.map((week) => ((t.weeks || []).find((w) => w.week === week) || {}).contacts || 0),
      backgroundColor: COLOURS[i % COLOURS.length],
    }));
    if (chart) chart.destroy();
    chart = new window.Chart($("chart-themes"), {
      type: "bar",
      data: { labels: weeks, datasets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: {
          legend: { display: true, position: "top", onClick: (event, item) => drill(themes[item.datasetIndex]) },
        },
        scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } },
        onClick: (event, elements) => { if (elements.length) drill(themes[elements[0].datasetIndex]); },
      },
    });
  }

  function drawTable(themes) {
    const body = $("table-themes");
    body.replaceChildren();
    for (const theme of themes) {
      const tr = document.createElement("tr");
      tr.dataset.theme = theme.id;
      for (const cell of [`${theme.id}. ${theme.label}`, theme.size || 0, theme.rise || 0,
        (theme.languages || []).join(" ")]) {
        const td = document.createElement("td");
        td.textContent = cell;
        tr.append(td);
      }
      tr.addEventListener("click", () => drill(theme));
      body.append(tr);
    }
  }

  async function drill(theme) {
    if (!theme || !run) return;
    const path = `/api/insights/themes/${encodeURIComponent(run.run_id)}/${encodeURIComponent(theme.id)}/contacts`;
    const reply = await getJson(path).catch((e) => { say(e.message); });
    if (!reply) return;
    const contacts = reply.contacts || [];
    $("theme-drill").hidden = false;
    $("theme-drill-what").textContent = `${theme.id}. ${theme.label}`;
    $("theme-drill-count").textContent = `${reply.total || 0} contacts, personal data redacted`;
    const body = $("theme-drill-rows");
    body.replaceChildren();
    for (const c of contacts) {
      const tr = document.createElement("tr");
      tr.dataset.contact = c.contact_id;
      for (const cell of [c.received_on, c.contact_id, c.sku, c.issue_code, c.language, c.verbatim]) {
        const td = document.createElement("td");
        td.textContent = cell || "";
        tr.append(td);
      }
      // A supervisor reads the case itself, as casework shows it to them; an analyst has the redacted words.
      if (document.body.dataset.role === "supervisor") {
        const link = document.createElement("a");
        link.href = `/cases/view?id=${encodeURIComponent(c.contact_id)}`;
        link.textContent = c.contact_id;
        tr.children[1].replaceChildren(link);
      }
      body.append(tr);
    }
    body.dataset.count = String(contacts.length);
    $("csv-theme-drill").href = `${path}?format=csv`;
    $("theme-drill").scrollIntoView({ block: "nearest" });
  }

  function redraw() {
    if (!run) return;
    const themes = ranked(run.themes || []);
    drawChart(themes);
    drawTable(themes);
  }

  async function load(refresh) {
    if (!window.Chart) return; // the dashboard's own script says the chart library is missing
    try {
      run = await getJson(`/api/insights/themes?${params(refresh ? { refresh: "1" } : {})}`);
    } catch (e) {
      say(e.message);
      return;
    }
    const scope = run.scope || {};
    $("themes-about").textContent = `${run.verbatims || 0} verbatims received ${scope.start} to ${scope.end}, `
      + `${(run.themes || []).length} themes (${run.representation}), computed ${run.computed_at}`;
    $("csv-themes").href = `/api/insights/themes?${params({ format: "csv" })}`;
    redraw();
    document.body.dataset.themesDrawn = "yes";
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("themes-rank").addEventListener("change", redraw);
    $("themes-refresh").addEventListener("click", () => load(true));
    for (const id of ["themes-sku", "themes-issue"]) $(id).addEventListener("change", () => load(false));
    load(false);
  });
})();
