// The live pop: one socket, one panel per watched extension. Values are set with textContent only.
"use strict";

const panels = new Map();
document.querySelectorAll("section.pop[data-extension]").forEach((p) => panels.set(p.dataset.extension, p));
const statusEl = document.getElementById("status");
const csrf = (document.querySelector('meta[name="csrf"]') || {}).content || "";
const shown = new Map(); // extension -> call_id on screen
const popped = new Map(); // extension -> the pop on screen

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "role") node.dataset.role = value;
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function setStatus(text, kind) {
  if (!statusEl) return;
  statusEl.textContent = text;
  statusEl.className = "status " + kind;
}

function setState(panel, text, kind) {
  const state = panel.querySelector('[data-role="state"]');
  state.textContent = text;
  state.className = "state " + (kind || "");
  panel.classList.toggle("ringing", kind === "ringing");
}

const money = (m) => (m && m.display) || "—";
const day = (iso) => (iso ? iso.slice(0, 10) : "—");
const SOURCE_NAMES = { contacts: "contact directory", billing: "billing", fulfillment: "purchases" };

function fact(label, value, role) {
  return el("div", { class: "fact" }, el("span", { class: "label" }, label), el("span", { class: "value", role }, value));
}

function consumerBlock(pop) {
  const c = pop.consumer;
  const terms = pop.credit_terms;
  const last = (pop.purchases || [])[0];
  const status = terms ? String(terms.status || "").replace(/_/g, " ") : "";
  const facts = el(
    "div",
    { class: "facts" },
    fact("Balance", pop.balance ? money(pop.balance) : pop.partial.includes("billing") ? "not available" : "—", "balance"),
    fact(
      "Credit terms",
      terms ? `${terms.payment_terms || "—"} · limit ${money(terms.limit)}` : pop.partial.includes("billing") ? "not available" : "none",
      "credit-terms",
    ),
    fact("Credit status", status || "—", "credit-status"),
    fact(
      "Last purchase",
      last
        ? `${day(last.placed_at)} · ${last.lines.map((l) => `${l.quantity} × ${l.name}`).join(", ")} · ${money(last.total)}`
        : pop.partial.includes("fulfillment") ? "not available" : "none",
      "last-purchase",
    ),
  );
  const contacts = (pop.recent_contacts || []).slice(0, 5).map((r) =>
    el("li", {}, el("span", { class: "when" }, day(r.occurred_at)), ` ${r.channel || ""} · ${r.summary || ""} `,
      r.status ? el("span", { class: "badge" }, r.status) : null),
  );
  const top = (pop.top_products || []).slice(0, 5).map((p) => el("li", {}, `${p.name} `, el("small", {}, `× ${p.units}`)));
  return el(
    "div",
    { class: "consumer-pop" },
    el("h3", {}, el("a", { href: `/consumers/${encodeURIComponent(c.consumer_id)}`, role: "consumer-name" }, c.name || "(no name)"),
      " ", el("span", { class: "badge match-" + c.match }, c.match + " match"), c.language ? el("small", {}, " · " + c.language) : null),
    el("p", { class: "actions" }, captureButton(pop, c)),
    typeof recallBlock === "function" ? recallBlock(pop.recalls, true) : null,
    facts,
    el("div", { class: "columns" },
      el("div", {}, el("h4", {}, "Recent contacts"), contacts.length ? el("ul", { class: "plain" }, contacts) : el("p", { class: "empty" }, "None")),
      el("div", {}, el("h4", {}, "Bought most"), top.length ? el("ul", { class: "plain" }, top) : el("p", { class: "empty" }, "None")),
    ),
  );
}

function captureButton(pop, consumer) {
  const button = el("button", { type: "button", class: "button", role: "capture-contact" }, "Capture contact");
  button.addEventListener("click", () => openCapture(pop, consumer));
  return button;
}

// PCI: the agent pauses the recording while the caller reads out card details, then resumes it.
function recordingBlock(pop) {
  const state = el("span", { class: "recording-state", role: "recording-state" }, "Recording");
  const button = el("button", { type: "button", class: "button", role: "recording-toggle" }, "Pause recording");
  const path = `/api/calls/${encodeURIComponent(pop.call_id)}/recording`;
  let paused = false;
  const show = (now) => {
    paused = now;
    state.textContent = paused ? "Recording paused" : "Recording";
    button.textContent = paused ? "Resume recording" : "Pause recording";
  };
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      show((await api("POST", `${path}/${paused ? "resume" : "pause"}`)).paused);
    } catch (error) {
      state.textContent = error.message;
    } finally {
      button.disabled = false;
    }
  });
  // A pop drawn again (a reload, a reconnect) asks telephony whether the recording is paused now.
  button.disabled = true;
  api("GET", path)
    .then((reply) => show(reply.paused))
    .catch(() => {}) // not recorded, or ended: the button stays as drawn
    .finally(() => { button.disabled = false; });
  return el("div", { class: "recording" }, state, " ", button);
}

function pickerBlock(pop) {
  const suggested = pop.consumer ? pop.consumer.consumer_id : null;
  return el(
    "div",
    { class: "picker" },
    el("p", {}, `${pop.matches.length} consumers match this number. Choose the caller:`),
    el("ul", { class: "choices" }, pop.matches.map((m) =>
      el("li", { class: m.consumer_id === suggested ? "suggested" : null },
        el("a", { href: `/consumers/${encodeURIComponent(m.consumer_id)}`, role: "match" }, m.name || "(no name)"),
        " ", el("span", { class: "badge match-" + m.match }, m.match),
        m.current ? null : el("small", {}, " former number"),
        m.last_contact_at ? el("small", {}, " · last contact " + day(m.last_contact_at)) : null),
    )),
    el("p", {}, el("a", { href: "/consumers/new?number=" + encodeURIComponent(pop.caller.number || "") }, "None of these: new consumer")),
  );
}

function newConsumerBlock(pop) {
  return el(
    "form",
    { method: "post", action: "/consumers", class: "inline-form", role: "new-consumer" },
    el("p", {}, pop.explanation || "No consumer has this number."),
    el("input", { type: "hidden", name: "csrf", value: csrf }),
    el("label", {}, "Name ", el("input", { name: "name", required: "", maxlength: "200" })),
    el("label", {}, "Phone ", el("input", { name: "number", value: pop.caller.number || "", maxlength: "40" })),
    el("label", {}, "Language ", el("input", { name: "language", value: "en", maxlength: "35", size: "4" })),
    el("button", { type: "submit", class: "primary" }, "Create consumer"),
  );
}

function render(pop) {
  const panel = panels.get(pop.extension);
  if (!panel) return;
  shown.set(pop.extension, pop.call_id);
  popped.set(pop.extension, pop);
  const body = panel.querySelector('[data-role="body"]');
  const caller = pop.caller || {};
  const head = el(
    "div",
    { class: "caller" },
    el("span", { class: "number", role: "caller-number" }, caller.withheld ? "Number withheld" : caller.number || "Unknown number"),
    caller.display ? el("span", { class: "display" }, caller.display) : null,
  );
  const gaps = pop.partial && pop.partial.length
    ? el("p", { class: "gap", role: "partial" }, "Not available in time: " + pop.partial.map((s) => SOURCE_NAMES[s] || s).join(", "))
    : null;
  let main;
  if (pop.route === "withheld") {
    main = el("div", {}, el("p", {}, "The caller withheld their number, so nobody can be matched."),
      el("p", {}, el("a", { href: "/consumers/new" }, "New consumer")));
  } else if (pop.route === "consumer" && pop.consumer) {
    main = consumerBlock(pop);
  } else if (pop.route === "picker") {
    main = el("div", {}, pickerBlock(pop), pop.consumer ? consumerBlock(pop) : null);
  } else {
    main = newConsumerBlock(pop);
  }
  const recording = pop.state === "answered" ? recordingBlock(pop) : "";
  body.replaceChildren(head, recording, gaps || "", main);
  if (pop.state === "answered") setState(panel, "On call", "oncall");
  else setState(panel, "Ringing", "ringing");
}

// The call on screen was answered: it is on call now, and its recording can be paused from here on.
function answered(extension, callId) {
  const panel = panels.get(extension);
  if (!panel || shown.get(extension) !== callId) return;
  setState(panel, "On call", "oncall");
  const body = panel.querySelector('[data-role="body"]');
  const head = body.querySelector(".caller");
  if (head && !body.querySelector(".recording")) head.after(recordingBlock(popped.get(extension)));
}

function clear(extension, callId) {
  const panel = panels.get(extension);
  if (!panel || (callId && shown.get(extension) !== callId)) return;
  shown.delete(extension);
  popped.delete(extension);
  panel.querySelector('[data-role="body"]').replaceChildren(el("p", { class: "empty" }, "Waiting for a call."));
  setState(panel, "Idle", "");
}

// -- the capture form, beside the pop: it stays when the call ends, until the agent is done --

const $ = (id) => document.getElementById(id);
let capturing = null; // { pop, consumer, products }

async function api(method, path, body) {
  const options = { method, credentials: "same-origin", headers: { "X-CSRF-Token": csrf } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const reply = await fetch(path, options);
  const data = await reply.json().catch(() => ({}));
  if (!reply.ok) throw new Error(data.error || `the server answered ${reply.status}`);
  return data;
}

function captureSay(text, kind) {
  const box = $("capture-message");
  box.textContent = text;
  box.className = `message ${kind || "error"}`;
  box.hidden = !text;
}

function callText(pop) {
  const caller = pop.caller || {};
  const from = caller.withheld ? "a withheld number" : caller.number || "an unknown number";
  const at = pop.rang_at || pop.composed_at || "";
  const time = at ? new Date(at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "";
  return `${time ? time + ", " : ""}from ${from} to ${pop.extension}`;
}

let issueCodesLoaded = false;
async function loadIssueCodes() {
  if (issueCodesLoaded) return;
  const { codes } = await api("GET", "/api/codes/issue");
  const list = $("capture-issue-codes");
  const paths = {};
  for (const code of codes) {
    paths[code.code] = code.path || code.label;
    list.append(el("option", { value: code.code, label: code.path || code.label }, code.path || code.label));
  }
  $("capture-issue").addEventListener("input", () => { $("capture-issue-path").textContent = paths[$("capture-issue").value] || ""; });
  issueCodesLoaded = true;
}

function fillProducts(products) {
  capturing.products = products;
  const select = $("capture-product");
  select.replaceChildren(el("option", { value: "" }, "— none —"));
  const bought = products.filter((p) => p.bought);
  const rest = products.filter((p) => !p.bought);
  const group = (label, items) => items.length
    ? el("optgroup", { label }, items.map((p) => el("option", { value: p.sku }, `${p.name}${p.size ? " · " + p.size : ""} (${p.sku})`)))
    : null;
  select.append(...[group("Bought by this consumer", bought), group("Catalogue", rest)].filter(Boolean));
}

async function loadProducts(query) {
  const params = new URLSearchParams({ q: query || "" });
  if (capturing.consumer && capturing.consumer.consumer_id) params.set("consumer_id", capturing.consumer.consumer_id);
  const { products } = await api("GET", `/api/catalogue?${params}`);
  fillProducts(products);
}

async function openCapture(pop, consumer) {
  capturing = { pop, consumer, products: [] };
  $("capture-panel").hidden = false;
  $("capture-form").hidden = false;
  $("capture-saved").hidden = true;
  $("capture-form").reset();
  captureSay("");
  $("capture-consumer").textContent = consumer ? consumer.name || "(no name)" : "not on file";
  $("capture-numbers").textContent = (pop.caller && pop.caller.number) || "—";
  $("capture-call").textContent = callText(pop);
  try {
    if (consumer && consumer.consumer_id) {
      const record = await api("GET", `/api/consumers/${encodeURIComponent(consumer.consumer_id)}`);
      const numbers = (record.phones || []).filter((p) => !p.valid_to).map((p) => `${p.number} (${p.type})`);
      if (numbers.length) $("capture-numbers").textContent = numbers.join(", ");
    }
    await Promise.all([loadIssueCodes(), loadProducts("")]);
  } catch (error) {
    captureSay(error.message);
  }
}

function setupCapture() {
  if (!$("capture-panel")) return;
  $("capture-product").addEventListener("change", () => {
    const chosen = capturing.products.find((p) => p.sku === $("capture-product").value);
    $("capture-sku").value = chosen ? chosen.sku : "";
    $("capture-upc").value = chosen ? chosen.upc : "";
    $("capture-product-name").value = chosen ? chosen.name : "";
  });
  let searching = null;
  $("capture-product-search").addEventListener("input", () => {
    clearTimeout(searching);
    searching = setTimeout(() => loadProducts($("capture-product-search").value).catch((e) => captureSay(e.message)), 250);
  });
  $("capture-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const v = (id) => $(id).value;
    const body = {
      channel: "phone", direction: "inbound", issue_code: v("capture-issue"), verbatim: v("capture-verbatim"),
      notes: v("capture-notes"),
      product: { sku: v("capture-sku"), upc: v("capture-upc"), name: v("capture-product-name"),
        lot_code: v("capture-lot"), best_by: v("capture-best-by") },
      call_id: capturing.pop.call_id || "",
    };
    if (capturing.consumer && capturing.consumer.consumer_id) body.consumer_id = capturing.consumer.consumer_id;
    if (capturing.consumer && capturing.consumer.language) body.language = capturing.consumer.language;
    try {
      const created = await api("POST", "/api/contacts", body);
      capturing.case = created;
      showSaved(created);
    } catch (error) {
      captureSay(error.message);
    }
  });
  $("capture-escalate-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const escalated = await api("POST", `/api/contacts/${encodeURIComponent(capturing.case.id)}/escalate`, { reason: $("capture-reason").value });
      showSaved(escalated);
      captureSay("Escalated to the supervisors' queue.", "info");
    } catch (error) {
      captureSay(error.message);
    }
  });
  $("capture-close").addEventListener("click", () => { $("capture-panel").hidden = true; capturing = null; });
}

function showSaved(c) {
  $("capture-form").hidden = true;
  $("capture-saved").hidden = false;
  const ref = $("capture-reference");
  ref.textContent = `#${c.reference}`;
  ref.href = `/cases/view?id=${encodeURIComponent(c.id)}`;
  $("capture-stage").textContent = c.escalated ? `${c.status} · escalated` : c.status;
  $("capture-escalate-form").hidden = c.escalated;
}

// Listed above the pops: a follow-up come due (contacts' reminder, sent to its assignee's sockets), and a
// regulatory report falling due (contacts' warning, sent to those who file reports).
function listAbovePops(text, caseId, className) {
  const list = $("reminders");
  if (!list) return;
  const item = document.createElement("li");
  if (className) item.className = className;
  item.dataset.caseId = caseId;
  item.textContent = text;
  const open = document.createElement("a");
  open.textContent = "open the case";
  open.href = `/cases/view?id=${encodeURIComponent(caseId)}`;
  item.appendChild(open);
  list.appendChild(item);
  list.hidden = false;
}

function remind(msg) {
  listAbovePops(`Follow-up due: ${msg.text} `, msg.case_id);
}

function warnOfDeadline(msg) {
  const due = msg.due_at ? new Date(msg.due_at).toLocaleString() : "";
  listAbovePops(`Regulatory report due ${due}: ${msg.authority} ${msg.form}, case #${msg.reference} `, msg.case_id, "deadline");
}

let delay = 500;
function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws`);
  socket.onopen = () => { delay = 500; setStatus("Connected", "ok"); };
  socket.onmessage = (event) => {
    let msg;
    try { msg = JSON.parse(event.data); } catch { return; }
    if (msg.type === "pop") render(msg);
    else if (msg.type === "clear") clear(msg.extension, msg.call_id);
    else if (msg.type === "call_state" && msg.state === "answered") answered(msg.extension, msg.call_id);
    else if (msg.type === "reminder") remind(msg);
    else if (msg.type === "regulatory_warning") warnOfDeadline(msg);
  };
  socket.onclose = () => {
    setStatus("Reconnecting…", "warn");
    // A refused handshake looks like any other close: ask whether the session is still good.
    fetch("/api/me", { credentials: "same-origin" })
      .then((reply) => {
        if (reply.status === 401) location.href = "/login";
        else setTimeout(connect, delay);
      })
      .catch(() => setTimeout(connect, delay));
    delay = Math.min(delay * 2, 10000);
  };
}
setupCapture();
if (panels.size) connect();
