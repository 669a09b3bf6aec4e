// Reply fulfillment on the console's pages: fulfil from a case, the approval queue, stock by location,
// restock prompts.
// Loaded after cases.js, whose helpers ($, api, el, say, when, row, link, PAGES) it uses; everything is
// drawn with textContent, never as HTML.
"use strict";

const STATE_TEXT = {
  requested: "Requested", awaiting_approval: "Awaiting approval", approved: "Approved",
  in_progress: "In progress", shipped: "Shipped", delivered: "Delivered", cancelled: "Cancelled",
  failed: "Failed", escalated: "Escalated",
};
const KIND_NAME = {
  coupon: "Coupon", refund: "Refund", replacement: "Replacement", sample: "Sample", letter: "Letter",
  return_mailer: "Return mailer",
};
const REFRESH_MS = 3000;

function money(m) {
  if (!m || !Number(m.amount_minor)) return "";
  return `${(Number(m.amount_minor) / 100).toFixed(2)} ${m.currency}`;
}

function stepText(f, step) {
  const state = STATE_TEXT[step.state] || step.state;
  return `${KIND_NAME[f.kind] || f.kind}: ${state}${step.stage ? ` (${step.stage})` : ""}`;
}

// The case's fulfillments in their table, and each one's steps on the timeline among the case's events;
// the badge from the case's stored status, which fulfillment's events move while the page is open.
async function drawFulfillments(caseId, timeline) {
  const drawing = latestDraw;
  const found = await api("GET", `/api/contacts/${encodeURIComponent(caseId)}/fulfillments`);
  const { fulfillments } = found;
  if (drawing === latestDraw) {  // else a draw of the whole case began meanwhile, with a newer status
    $("stage").textContent = stageBadge(found);
    $("stage").dataset.awaiting = found.awaiting_fulfillment ? "yes" : "no";
  }
  const body = $("fulfillments");
  body.replaceChildren();
  for (const f of fulfillments) {
    const kindText = (KIND_NAME[f.kind] || f.kind) + (f.delivery === "email" ? " by email" : "");
    const tr = row([kindText, STATE_TEXT[f.state] || f.state, money(f.value),
      f.requested_by, f.decided_by, f.reason || f.coupon_code]);
    tr.dataset.state = f.state;
    tr.dataset.kind = f.kind;
    tr.dataset.id = f.id;
    if (f.kind === "letter" && ["in_progress", "shipped", "delivered"].includes(f.state)) {
      const a = el("a", "letter (PDF)");
      a.href = `/api/fulfillments/${encodeURIComponent(f.id)}/letter`;
      a.target = "_blank";
      tr.lastChild.appendChild(document.createTextNode(" "));
      tr.lastChild.appendChild(a);
    }
    body.appendChild(tr);
  }
  for (const old of timeline.querySelectorAll("li.fulfillment")) old.remove();
  const steps = fulfillments.flatMap((f) => (f.history || []).map((step) => ({ f, step })));
  for (const { f, step } of steps) {
    const li = el("li", undefined, `event fulfillment ${step.state}`);
    li.dataset.kind = "fulfillment";
    li.dataset.state = step.state;
    li.dataset.at = step.occurred_at;
    li.appendChild(el("time", when(step.occurred_at)));
    li.appendChild(el("b", ` ${stepText(f, step)} `));
    li.appendChild(el("span", `by ${step.actor}`, "actor"));
    if (step.note) li.appendChild(el("div", step.note, "what"));
    const later = [...timeline.children].find((other) => other.dataset.at && other.dataset.at > step.occurred_at);
    timeline.insertBefore(li, later || null);
  }
}

function fulfillmentsUnavailable(error) {
  const body = $("fulfillments");
  const tr = row([`Fulfillments cannot be shown now: ${error.message}`]);
  tr.className = "error";
  tr.dataset.unavailable = "yes";
  body.replaceChildren(tr);
}

function showFieldsFor(kind) {
  for (const node of document.querySelectorAll("#fulfil-form [data-for]")) {
    node.hidden = !node.dataset.for.split(" ").includes(kind);
  }
}

// The letter choice lists the templates in use now, so one an admin has just written is offered at once.
async function offerLetters() {
  try {
    const { names = [] } = await api("GET", "/api/letters/offered");
    $("letter-choices").replaceChildren(...names.map((name) => {
      const option = document.createElement("option");
      option.value = name;
      return option;
    }));
  } catch (error) {
    say(error.message);
  }
}

// "By email" is offered only when the consumer has an email address; fulfillment refuses it otherwise.
async function offerDeliveries(caseId) {
  const choice = $("fulfil-delivery");
  try {
    const found = await api("GET", `/api/contacts/${encodeURIComponent(caseId)}/letter-deliveries`);
    const options = [el("option", "by post")];
    options[0].value = "post";
    if (found.deliveries.includes("email")) {
      const email = el("option", `by email to ${found.email_address}`);
      email.value = "email";
      options.push(email);
    }
    choice.replaceChildren(...options);
  } catch (error) {
    say(error.message);
  }
}

function setUpFulfil(caseId) {
  const kind = $("fulfil-kind");
  const preview = () => {
    $("letter-preview").href =
      `/api/contacts/${encodeURIComponent(caseId)}/letter-preview?template=${encodeURIComponent($("fulfil-template").value)}`;
  };
  kind.addEventListener("change", () => showFieldsFor(kind.value));
  $("fulfil-template").addEventListener("input", preview);
  showFieldsFor(kind.value);
  preview();
  offerLetters();
  offerDeliveries(caseId);
  $("fulfil-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const shown = (id) => !$(id).closest("[data-for]").hidden;
    const body = { kind: kind.value, idempotency_key: crypto.randomUUID() };
    if (shown("fulfil-value") && $("fulfil-value").value) {
      body.value = $("fulfil-value").value;
      body.currency = $("fulfil-currency").value;
    }
    if (shown("fulfil-sku")) body.sku = $("fulfil-sku").value;
    if (shown("fulfil-quantity")) body.quantity = $("fulfil-quantity").value;
    if (shown("fulfil-template")) body.template = $("fulfil-template").value;
    if (shown("fulfil-delivery")) body.delivery = $("fulfil-delivery").value;
    try {
      const f = await api("POST", `/api/contacts/${encodeURIComponent(caseId)}/fulfillments`, body);
      const waits = f.state === "awaiting_approval";
      say(waits ? `Sent to a supervisor for approval: ${f.reason}` : `${KIND_NAME[f.kind]} approved and on its way.`,
        "info");
      await drawFulfillments(caseId, $("timeline"));
    } catch (error) {
      say(error.message);
    }
  });
  // The worker moves requests along on its own: keep the table and the timeline current.
  setInterval(() => drawFulfillments(caseId, $("timeline")).catch(fulfillmentsUnavailable), REFRESH_MS);
}

PAGES.case = async () => {
  setUpFulfil(new URLSearchParams(location.search).get("id"));
  await casePage();
};

// -- the supervisors' approval queue --

async function approvalsPage() {
  const draw = async () => {
    const { fulfillments } = await api("GET", "/api/approvals");
    const body = $("approvals");
    body.replaceChildren();
    for (const f of fulfillments) {
      const caseLink = el("a", "case");
      caseLink.href = `/cases/view?id=${encodeURIComponent(f.case_id)}`;
      const decide = el("form", undefined, "decide");
      const reason = el("input");
      reason.name = "reason";
      reason.placeholder = "reason (required to refuse)";
      const approve = el("button", "Approve");
      approve.type = "button";
      approve.className = "approve";
      const refuse = el("button", "Refuse");
      refuse.type = "button";
      refuse.className = "refuse";
      decide.append(reason, approve, refuse);
      const act = (verb) => async () => {
        try {
          await api("POST", `/api/fulfillments/${encodeURIComponent(f.id)}/${verb}`, { reason: reason.value });
          await draw();  // first: an empty queue says so, and the decision's own message must stay on top
          say(`${KIND_NAME[f.kind]} ${verb === "approve" ? "approved" : "refused"}.`, "info");
        } catch (error) {
          say(error.message);
        }
      };
      approve.addEventListener("click", act("approve"));
      refuse.addEventListener("click", act("refuse"));
      const tr = row([caseLink, KIND_NAME[f.kind] || f.kind, money(f.value), f.sku, f.requested_by, f.reason,
        when(f.created_at), decide]);
      tr.dataset.id = f.id;
      body.appendChild(tr);
    }
    if (!fulfillments.length) say("Nothing waits for approval.", "info");
  };
  await draw();
}

// -- a product's stock by location, with what needs restocking --

async function stockPage() {
  const show = async (sku) => {
    const found = await api("GET", `/api/products/${encodeURIComponent(sku)}/stock`);
    $("stock-title").textContent = `${found.sku}: ${found.available} available`;
    const body = $("levels");
    body.replaceChildren();
    for (const level of found.levels) {
      const l = level.location;
      const tr = row([l.name, l.kind.replace("_", " "), l.country, l.region, l.postcode, level.on_hand,
        level.reserved, level.available, level.reorder_point || ""]);
      if (level.below_reorder_point) tr.className = "below";
      tr.dataset.location = l.id;
      body.appendChild(tr);
    }
    const list = $("restock-list");
    list.replaceChildren();
    for (const level of found.restock) {
      list.appendChild(el("li", `${level.location.name} (${level.location.region}): ${level.available} available, `
        + `below its reorder point of ${level.reorder_point}; send ${level.reorder_point - level.available} or more.`));
    }
    $("restock").hidden = !found.restock.length;
    const choose = $("reorder-location");
    if (choose) {
      choose.replaceChildren(...found.levels.map((level) => {
        const option = el("option", level.location.name);
        option.value = level.location.id;
        return option;
      }));
    }
    say("");
  };
  const reorder = $("reorder-form");
  if (reorder) {
    reorder.addEventListener("submit", async (event) => {
      event.preventDefault();
      const sku = $("stock-sku").value.trim();
      try {
        await api("PUT", `/api/products/${encodeURIComponent(sku)}/reorder-points/`
          + encodeURIComponent($("reorder-location").value), { reorder_point: $("reorder-point").value });
        await show(sku);
        say("Reorder point saved.", "info");
      } catch (error) {
        say(error.message);
      }
    });
  }
  $("stock-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const sku = $("stock-sku").value.trim();
    history.replaceState(null, "", `?sku=${encodeURIComponent(sku)}`);
    try { await show(sku); } catch (error) { say(error.message); }
  });
  $("wtb-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const query = new URLSearchParams({ postcode: $("wtb-postcode").value, country: $("wtb-country").value });
    try {
      const found = await api("GET",
        `/api/products/${encodeURIComponent($("stock-sku").value.trim())}/where-to-buy?${query}`);
      const body = $("wtb-stores");
      body.replaceChildren();
      for (const s of found.stores) {
        body.appendChild(row([s.location.name, s.location.postcode, `${s.distance_km.toFixed(1)} km`, s.available]));
      }
      say(found.stores.length ? "" : "No store near there has it in stock.", "info");
    } catch (error) {
      say(error.message);
    }
  });
  const sku = new URLSearchParams(location.search).get("sku");
  if (sku) {
    $("stock-sku").value = sku;
    await show(sku);
  }
}

// -- the supply planners' restock prompts, with the figures behind each --

const REASON_TEXT = { low_cover: "Low cover", misses_climbing: "Misses climbing" };
const POLICY_FIELDS = ["cover_days", "window_days", "baseline_windows", "miss_factor", "min_misses"];

const THRESHOLD_FIELDS = ["sku", "country", "region", "cover_days"];

function scopeText(sku, country, region) {
  if (!sku && !region) return "default";
  return [sku || "every product", region ? `${country}/${region}` : "every region"].join(" in ");
}

// The overrides, each removable by a planner, and the latest changes with who made them.
function drawThresholds(policy, redraw) {
  const body = $("cover-thresholds");
  body.replaceChildren();
  for (const t of policy.cover_thresholds || []) {
    const tr = row([t.sku || "every product", t.country || "", t.region || "every region", t.cover_days, ""]);
    if ($("threshold-form")) {
      const remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "Remove";
      remove.addEventListener("click", async () => {
        const query = new URLSearchParams({ sku: t.sku || "", country: t.country || "", region: t.region || "" });
        try {
          await api("DELETE", `/api/restock-thresholds?${query}`);
          await redraw();
          say("Threshold removed; the next one down applies.", "info");
        } catch (error) {
          say(error.message);
        }
      });
      tr.lastChild.appendChild(remove);
    }
    body.appendChild(tr);
  }
  const changes = $("threshold-changes");
  changes.replaceChildren();
  for (const c of policy.changes || []) {
    changes.appendChild(row([when(c.changed_at), c.changed_by, scopeText(c.sku, c.country, c.region),
      c.before_json || "none", c.after_json || "removed"]));
  }
}

async function restockPage() {
  const draw = async () => {
    const [{ prompts }, policy] = await Promise.all([
      api("GET", "/api/restock-prompts"), api("GET", "/api/restock-policy")]);
    $("restock-policy").textContent = `Prompted below ${policy.cover_days} days of cover over a `
      + `${policy.window_days}-day window, or at ${policy.min_misses}+ misses above ${policy.miss_factor}× `
      + `their usual level (the ${policy.baseline_windows} windows before).`;
    for (const name of POLICY_FIELDS) {
      const input = $(`policy-${name}`);
      if (input && document.activeElement !== input) input.value = policy[name];
    }
    const body = $("prompts");
    body.replaceChildren();
    for (const p of prompts) {
      const cover = p.days_of_cover === undefined ? "no sales" : Number(p.days_of_cover).toFixed(1);
      const tr = row([p.sku, p.country, p.region, p.reasons.map((r) => REASON_TEXT[r] || r).join(", "),
        p.units_sold, Number(p.velocity_per_day).toFixed(1), p.available, cover,
        `${p.misses} (${Number(p.usual_misses).toFixed(1)})`, when(p.raised_at), when(p.evaluated_at)]);
      tr.dataset.sku = p.sku;
      tr.dataset.region = p.region;
      body.appendChild(tr);
    }
    drawThresholds(policy, draw);
    if (!prompts.length) say("No product needs restocking anywhere.", "info");
    else say("");
  };
  const thresholdForm = $("threshold-form");
  if (thresholdForm) {
    thresholdForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = Object.fromEntries(THRESHOLD_FIELDS.map((name) => [name, $(`threshold-${name}`).value]));
      try {
        await api("PUT", "/api/restock-thresholds", body);
        await draw();
        say("Threshold saved; the prompts above follow it.", "info");
      } catch (error) {
        say(error.message);
      }
    });
  }
  const form = $("policy-form");
  if (form) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = Object.fromEntries(POLICY_FIELDS.map((name) => [name, $(`policy-${name}`).value]));
      try {
        await api("PUT", "/api/restock-policy", body);
        await draw();
        say("Thresholds saved; the prompts below follow them.", "info");
      } catch (error) {
        say(error.message);
      }
    });
  }
  await draw();
  setInterval(() => draw().catch((error) => say(error.message)), REFRESH_MS * 10);
}

PAGES.approvals = approvalsPage;
PAGES.restock = restockPage;
PAGES.stock = stockPage;
