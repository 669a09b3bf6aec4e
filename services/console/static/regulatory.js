// Regulatory clocks: the case's reporting deadline with its state, marking the report filed and downloading
// its form's fields; the admin section of regimes and holidays. Loaded after cases.js, whose helpers
// ($, api, el, say, when, row, PAGES) it uses; everything is drawn with textContent, never as HTML.
"use strict";

const CLOCK_TEXT = {
  on_time: "on time", warning: "due soon: legal warned", breached: "late: not filed by the deadline",
  filed: "filed", filed_late: "filed after the deadline",
};

// The queue and search rows: the report's due time and its state, or nothing for a case no regime covers.
function clockCell(c) {
  const clock = c.regulatory_clock;
  if (!clock || !clock.regime) return "";
  const span = el("span", `${clock.form}: ${when(clock.due_at)} (${CLOCK_TEXT[clock.state] || clock.state})`, "clock");
  span.dataset.state = clock.state;
  return span;
}

function drawRegulatoryClock(c) {
  const section = $("regulatory");
  if (!section) return;
  const clock = c.regulatory_clock;
  section.hidden = !clock || !clock.regime;
  if (section.hidden) return;
  $("clock-state").textContent = CLOCK_TEXT[clock.state] || clock.state;
  $("clock-state").dataset.state = clock.state;
  const facts = [
    ["Regime", `${clock.regime_name} (${clock.authority})`], ["Form", clock.form],
    ["Deadline", `${clock.deadline} from receipt`], ["Received", when(clock.received_at)],
    ["Report due", when(clock.due_at)], ["Legal warned from", when(clock.warn_at)],
  ];
  if (clock.filing && clock.filing.reported_by) {
    const f = clock.filing;
    facts.push(["Filed", `${when(f.reported_at)} by ${f.reported_by}${f.reference ? `, reference ${f.reference}` : ""}`]);
  }
  const list = $("clock-details");
  list.replaceChildren();
  for (const [name, value] of facts) {
    list.appendChild(el("dt", name));
    const dd = el("dd", value);
    if (name === "Report due") dd.id = "clock-due";
    list.appendChild(dd);
  }
  const filed = Boolean(clock.filing && clock.filing.reported_by);
  $("file-report-form").hidden = filed;
  $("export-csv").href = `/api/contacts/${encodeURIComponent(c.id)}/regulatory-export?format=csv`;
}

function setUpFiling(id) {
  const form = $("file-report-form");
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const reportedAt = $("report-filed-at").value;
    try {
      const c = await api("POST", `/api/contacts/${encodeURIComponent(id)}/regulatory-report`, {
        reference: $("report-reference").value,
        reported_at: reportedAt ? new Date(reportedAt).toISOString() : "",
      });
      say("");
      drawRegulatoryClock(c);
    } catch (error) {
      say(error.message);
    }
  });
}

// -- the admin section: regimes and holidays --

const REGIME_FIELDS = ["code", "name", "authority", "form", "min_severity", "deadline_amount", "deadline_unit",
  "warn_amount", "warn_unit"];

function fillRegimeForm(r) {
  for (const name of REGIME_FIELDS) $(`regime-${name}`).value = r[name] ?? "";
  $("regime-issue_prefixes").value = (r.issue_prefixes || []).join(", ");
  $("regime-form_fields").value = (r.form_fields || []).join(", ");
  $("regime-notify").value = (r.notify || []).join(", ");
  $("regime-active").checked = r.active !== false;
}

function words(id) {
  return $(id).value.split(",").map((v) => v.trim()).filter(Boolean);
}

async function drawRegimes() {
  const { regimes, form_fields: known } = await api("GET", "/api/regulatory/regimes?include_inactive=true");
  $("known-form-fields").textContent = known.join(", ");
  const body = $("regimes");
  body.replaceChildren();
  for (const r of regimes) {
    const edit = el("button", "Edit");
    edit.type = "button";
    edit.addEventListener("click", () => fillRegimeForm(r));
    const tr = row([r.code, r.name, `${r.authority} ${r.form}`, r.issue_prefixes.join(", "), r.min_severity || "any",
      `${r.deadline_amount} ${r.deadline_unit.replace("_", " ")}`, `${r.warn_amount} ${r.warn_unit.replace("_", " ")}`,
      r.active ? "yes" : "retired", $("save-regime") ? edit : ""]);
    tr.dataset.regime = r.code;
    body.appendChild(tr);
  }
  const { holidays } = await api("GET", "/api/regulatory/holidays");
  const list = $("holidays");
  list.replaceChildren();
  for (const h of holidays) list.appendChild(row([h.day, h.name]));
}

async function regulatoryPage() {
  const saveRegime = $("regime-edit");
  if (saveRegime) {
    saveRegime.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = { issue_prefixes: words("regime-issue_prefixes"), form_fields: words("regime-form_fields"),
        notify: words("regime-notify"), active: $("regime-active").checked };
      for (const name of REGIME_FIELDS) body[name] = $(`regime-${name}`).value;
      for (const name of ["deadline_amount", "warn_amount"]) body[name] = Number(body[name]);
      try {
        await api("POST", "/api/regulatory/regimes", body);
        say("Saved.", "info");
        await drawRegimes();
      } catch (error) {
        say(error.message);
      }
    });
    $("holiday-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const remove = event.submitter && event.submitter.id === "remove-holiday";
      try {
        await api("POST", "/api/regulatory/holidays", {
          holiday: { day: $("holiday-day").value, name: $("holiday-name").value }, remove });
        say("");
        await drawRegimes();
      } catch (error) {
        say(error.message);
      }
    });
  }
  await drawRegimes();
}

const previousCasePage = PAGES.case;
PAGES.case = async () => {
  setUpFiling(new URLSearchParams(location.search).get("id"));
  await previousCasePage();
};
PAGES.regulatory = regulatoryPage;
