// The casework pages: everything drawn with textContent, never as HTML; every change carries the
// session's CSRF token in X-CSRF-Token.
"use strict";

const $ = (id) => document.getElementById(id);

async function api(method, path, body) {
  const csrf = (document.querySelector('meta[name="csrf"]') || {}).content || "";
  const options = { method, credentials: "same-origin", headers: { "X-CSRF-Token": csrf } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(data.error || `the server answered ${response.status}`);
  }
  return data;
}

function say(text, kind) {
  const box = $("message");
  box.textContent = text;
  box.className = `message ${kind || "error"}`;
  box.hidden = !text;
}

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

async function fillCodes(kind, listId) {
  const { codes } = await api("GET", `/api/codes/${kind}`);
  const list = $(listId);
  for (const code of codes) {
    const option = el("option");
    option.value = code.code;
    option.label = code.path || code.label;
    option.textContent = code.path || code.label;
    list.appendChild(option);
  }
  return codes;
}

function link(caseItem) {
  const a = el("a", `#${caseItem.reference}`);
  a.href = `/cases/view?id=${encodeURIComponent(caseItem.id)}`;
  return a;
}

function row(cells) {
  const tr = el("tr");
  for (const cell of cells) {
    const td = el("td");
    if (cell instanceof Node) td.appendChild(cell);
    else td.textContent = cell == null ? "" : String(cell);
    tr.appendChild(td);
  }
  return tr;
}

function productText(p) {
  return [p.name || p.sku, p.lot_code && `lot ${p.lot_code}`].filter(Boolean).join(", ");
}

// -- capture --

async function capturePage() {
  const params = new URLSearchParams(location.search);
  for (const name of ["consumer_id", "call_id", "channel", "language", "sku", "lot_code", "issue_code"]) {
    if (params.get(name)) $(name).value = params.get(name);
  }
  const codes = await fillCodes("issue", "issue_codes");
  const paths = Object.fromEntries(codes.map((c) => [c.code, c.path]));
  $("issue_code").addEventListener("input", () => {
    $("issue_path").textContent = paths[$("issue_code").value] || "";
  });
  $("capture").addEventListener("submit", async (event) => {
    event.preventDefault();
    const v = (id) => $(id).value;
    const body = {
      channel: v("channel"), direction: v("direction"), language: v("language"), issue_code: v("issue_code"),
      verbatim: v("verbatim"), notes: v("notes"),
      product: {
        sku: v("sku"), upc: v("upc"), name: v("product_name"), lot_code: v("lot_code"), best_by: v("best_by"),
        produced_on: v("produced_on"), purchase_store: v("purchase_store"),
        purchase_location: v("purchase_location"), purchased_on: v("purchased_on"),
      },
    };
    if (v("consumer_id")) body.consumer_id = v("consumer_id");
    if (v("call_id")) body.call_id = v("call_id");
    if (v("severity")) body.severity = v("severity");
    try {
      const created = await api("POST", "/api/contacts", body);
      location.href = `/cases/view?id=${encodeURIComponent(created.id)}`;
    } catch (error) {
      say(error.message);
    }
  });
}

// -- one case --

const KIND_TEXT = {
  created: "Captured", updated: "Changed", status: "Status", escalated: "Escalated", assigned: "Assigned",
  action: "Action", call_linked: "Call linked", sla_breached: "SLA breached",
  recording_paused: "Recording paused", recording_resumed: "Recording resumed",
  report_filed: "Regulatory report filed", regulatory_warning: "Regulatory deadline near",
};
const CALL_KINDS = new Set(["recording_paused", "recording_resumed"]);

// The silent spans (PCI pauses) of a call's recording, as its filed call lists them.
function pausedText(paused) {
  const secs = (x) => `${Number(x || 0).toFixed(1)} s`;
  return paused.map((p) => {
    const end = p.end_seconds ? secs(p.end_seconds) : "the end";
    const by = p.resumed_by ? `paused by ${p.paused_by}, resumed by ${p.resumed_by}` : `paused by ${p.paused_by}`;
    return `${secs(p.start_seconds)}–${end} (${by})`;
  }).join("; ");
}

async function drawPauses(li, callId) {
  let call;
  try {
    call = await api("GET", `/api/calls/${encodeURIComponent(callId)}`);
  } catch {
    return; // not filed yet: the call is still in progress, and the timeline shows its pauses
  }
  const paused = call.paused || [];
  const text = paused.length ? `Silent (paused): ${pausedText(paused)}` : "Not paused";
  const node = el("div", text, "paused");
  node.dataset.role = "recording-paused";
  li.appendChild(node);
}

function changeText(changes) {
  const show = (text) => {
    let x = text;
    try { x = JSON.parse(text); } catch { /* plain text */ }
    return x === null || x === undefined || x === "" ? "—" : typeof x === "object" ? JSON.stringify(x) : x;
  };
  return (changes || []).map((c) => `${c.field}: ${show(c.before)} → ${show(c.after)}`).join("; ");
}

// Draws overlap (a change redraws while the previous draw still waits on a slow source); only the newest
// may touch the page, or an answer fetched before a change would paint over the one fetched after it.
let latestDraw = 0;

// The case's badge: its status ("awaiting fulfillment" in words: fulfillment's events set it), and
// "escalated" while an escalated case is open.
function stageBadge(c) {
  const status = c.stage === "awaiting_fulfillment" ? "awaiting fulfillment" : c.status;
  return c.escalated && !["resolved", "closed"].includes(c.stage) ? `${status} · escalated` : status;
}

async function drawCase(id) {
  const draw = ++latestDraw;
  const superseded = () => draw !== latestDraw;
  const c = await api("GET", `/api/contacts/${encodeURIComponent(id)}`);
  if (superseded()) return c;
  $("reference").textContent = `#${c.reference}`;
  $("stage").textContent = stageBadge(c);
  $("stage").dataset.awaiting = c.stage === "awaiting_fulfillment" ? "yes" : "no";
  const details = $("details");
  details.replaceChildren();
  const facts = [
    ["Issue", c.issue_path], ["Severity", c.severity], ["Channel", `${c.channel}, ${c.direction}`],
    ["Consumer", c.consumer_id || (c.reporter.name ? `${c.reporter.name} (not on file)` : "anonymous")],
    ["Product", productText(c.product)], ["Best by", c.product.best_by], ["Bought at", c.product.purchase_store],
    ["Assignee", c.assignee || (c.escalated ? "supervisors' queue" : "")],
    ["Escalation", c.escalation_reason], ["Actions", c.action_codes.join(", ")],
    ["Response due", when(c.response_due_at)], ["Resolution due", when(c.resolution_due_at)],
    ["SLA", c.sla_breach ? `breached: ${c.sla_breach}` : "on time"], ["Notes", c.notes],
  ];
  for (const [name, value] of facts) {
    if (!value) continue;
    details.appendChild(el("dt", name));
    details.appendChild(el("dd", value));
  }
  if (typeof drawRegulatoryClock === "function") drawRegulatoryClock(c);
  $("verbatim").textContent = c.verbatim;
  const recordings = $("recordings");
  recordings.replaceChildren();
  for (const callId of c.call_ids || []) {
    // Played through the console, which checks the session: the address works for no one else.
    const li = el("li");
    const audio = el("audio");
    audio.controls = true;
    audio.preload = "none";
    audio.src = `/recordings/${encodeURIComponent(callId)}`;
    audio.dataset.callId = callId;
    li.appendChild(el("span", "Call recording "));
    li.appendChild(audio);
    recordings.appendChild(li);
    drawPauses(li, callId); // not awaited: the timeline below does not wait for it
  }
  await drawMessages(id);
  const { events } = await api("GET", `/api/contacts/${encodeURIComponent(id)}/timeline`);
  if (superseded()) return c;
  const timeline = $("timeline");
  timeline.replaceChildren();
  for (const e of events) {
    const li = el("li", undefined, `event ${e.kind}`);
    li.dataset.kind = e.kind;
    li.dataset.at = e.occurred_at;
    li.appendChild(el("time", when(e.occurred_at)));
    li.appendChild(el("b", ` ${KIND_TEXT[e.kind] || e.kind} `));
    li.appendChild(el("span", `by ${e.actor}`, "actor"));
    if (e.call_id) li.dataset.callId = e.call_id;
    const changes = e.kind === "created" || CALL_KINDS.has(e.kind) ? [] : e.changes;
    const text = [e.note, changeText(changes)].filter(Boolean).join(" — ");
    if (text) li.appendChild(el("div", text, "what"));
    timeline.appendChild(li);
  }
  // fulfil.js (loaded after this script on the case page) adds the case's fulfillments and their steps;
  // a fulfillment service that does not answer leaves the rest of the case drawn.
  if (typeof drawFulfillments === "function") await drawFulfillments(id, timeline).catch(fulfillmentsUnavailable);
  if (superseded()) return c;
  const history = $("history");
  history.replaceChildren();
  if (c.consumer_id) {
    const { cases } = await api("GET", `/api/contacts?consumer_id=${encodeURIComponent(c.consumer_id)}&limit=20`);
    if (superseded()) return c;
    for (const other of cases) {
      const li = el("li");
      li.appendChild(link(other));
      li.appendChild(el("span", ` ${when(other.occurred_at)} · ${other.issue_path} · ${other.status}`));
      history.appendChild(li);
    }
  }
  return c;
}

// The reply templates in the consumer's language: choosing one puts its text in the reply, to edit.
async function offerTemplates(id) {
  const picker = $("reply-template");
  let offered = { templates: [] };
  try {
    offered = await api("GET", `/api/contacts/${id}/reply-templates`);
  } catch (error) {
    picker.disabled = true;
    return;
  }
  $("reply-language").textContent = offered.language ? `(${offered.language})` : "";
  for (const template of offered.templates || []) {
    const option = document.createElement("option");
    option.value = String(template.id);
    option.textContent = template.language === offered.language ? template.name : `${template.name} (${template.language})`;
    option.dataset.body = template.body;
    picker.append(option);
  }
  picker.addEventListener("change", () => {
    const chosen = picker.selectedOptions[0];
    if (chosen && chosen.dataset.body) $("reply-body").value = chosen.dataset.body;
  });
}

// The case's email both ways, from channels; a case with none shows no reply form.
async function drawMessages(id) {
  let messages = [];
  try {
    ({ messages } = await api("GET", `/api/contacts/${encodeURIComponent(id)}/messages`));
  } catch (error) {
    say(`messages: ${error.message}`);
  }
  const list = $("messages");
  list.replaceChildren();
  for (const m of messages) {
    const li = el("li", "", `message-${m.direction}`);
    const who = m.direction === "inbound" ? `from ${m.from_address}` : `to ${m.to_address} by ${m.author} (${m.delivery})`;
    li.appendChild(el("strong", `${when(m.created_at)} ${m.direction} ${who}: ${m.subject}`));
    li.appendChild(el("pre", m.body, "verbatim"));
    for (const a of m.attachments) {
      const shown = `${a.filename} (${a.content_type}, ${a.size} bytes)${a.kept ? "" : ` not kept: ${a.reason}`}`;
      if (a.kept && a.id && a.id !== "0") {
        const row = el("div");
        const link = el("a", shown);
        link.href = `/attachments/${encodeURIComponent(id)}/${encodeURIComponent(a.id)}`;
        row.appendChild(link);
        li.appendChild(row);
      } else {
        li.appendChild(el("div", shown));
      }
    }
    list.appendChild(li);
  }
  $("reply-form").hidden = !messages.some((m) => m.direction === "inbound" && m.channel !== "chat");
}

async function casePage() {
  const id = new URLSearchParams(location.search).get("id");
  const { codes: statuses } = await api("GET", "/api/codes/status");
  for (const s of statuses) {
    const option = el("option", s.label);
    option.value = s.code;
    $("case-status").appendChild(option);
  }
  await fillCodes("action", "action_codes");
  const me = await api("GET", "/api/me");
  const act = (fn) => async (event) => {
    event.preventDefault();
    try {
      await fn();
      say("");
      await drawCase(id);
    } catch (error) {
      say(error.message);
    }
  };
  $("status-form").addEventListener("submit", act(() =>
    api("POST", `/api/contacts/${id}/status`, { status: $("case-status").value, note: $("status-note").value })));
  $("escalate-form").addEventListener("submit", act(() =>
    api("POST", `/api/contacts/${id}/escalate`, { reason: $("reason").value })));
  $("action-form").addEventListener("submit", act(() =>
    api("POST", `/api/contacts/${id}/actions`, { action_code: $("action_code").value, note: $("action-note").value })));
  $("take").addEventListener("click", act(() => api("POST", `/api/contacts/${id}/assign`, { assignee: me.username })));
  offerTemplates(id);
  $("reply-form").addEventListener("submit", act(async () => {
    await api("POST", `/api/contacts/${id}/replies`, { body: $("reply-body").value });
    $("reply-body").value = "";
  }));
  try {
    await drawCase(id);
  } catch (error) {
    say(error.message);
  }
}

// -- the supervisors' queue and search --

async function queuePage() {
  const status = new URLSearchParams(location.search).get("status") || "";
  $("queue-status").value = status;
  $("queue-status").addEventListener("change", () => { location.search = new URLSearchParams({ status: $("queue-status").value }); });
  const { cases } = await api("GET", `/api/queue?${new URLSearchParams({ status })}`);
  const body = $("queue");
  for (const c of cases) {
    body.appendChild(row([link(c), c.issue_path, c.severity, productText(c.product), stageBadge(c),
      c.escalation_reason, c.assignee, when(c.resolution_due_at), clockCell(c)]));
  }
  if (!cases.length) say("Nothing is waiting for a supervisor.", "info");
}

async function searchPage() {
  await fillCodes("issue", "issue_codes");
  $("search-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const query = new URLSearchParams();
    for (const [name, value] of new FormData($("search-form"))) {
      if (!value) continue;
      query.set(name, name === "from" || name === "to" ? `${value}T00:00:00Z` : value);
    }
    try {
      const { cases } = await api("GET", `/api/contacts?${query}`);
      const body = $("results");
      body.replaceChildren();
      for (const c of cases) {
        body.appendChild(row([link(c), when(c.occurred_at), c.issue_path, productText(c.product), c.status,
          c.verbatim.slice(0, 160)]));
      }
      say(cases.length ? "" : "No contact matches.", "info");
    } catch (error) {
      say(error.message);
    }
  });
}

async function earlyWarningPage() {
  const draw = async () => {
    const query = new URLSearchParams(new FormData($("warning-form")));
    const { clusters } = await api("GET", `/api/early-warning?${query}`);
    const body = $("clusters");
    body.replaceChildren();
    for (const c of clusters) {
      body.appendChild(row([c.product_sku, c.lot_code, c.contacts, when(c.first_at), when(c.last_at),
        (c.issue_codes || []).join(", ")]));
    }
    say(clusters.length ? "" : "No lot has that many complaints in the window.", "info");
  };
  $("warning-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try { await draw(); } catch (error) { say(error.message); }
  });
  await draw();
}

// Other scripts (fulfil.js) add their pages here before the document is loaded.
const PAGES = {
  new: capturePage, case: casePage, queue: queuePage, search: searchPage, "early-warning": earlyWarningPage,
};

async function start() {
  const page = PAGES[document.body.dataset.page];
  if (page) {
    try {
      await page();
    } catch (error) {
      say(error.message);
    }
  }
}

document.addEventListener("DOMContentLoaded", start);
