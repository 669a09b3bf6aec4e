// The inbox page, and the claim and follow-ups on a case's page.
// Loaded after cases.js (and, on a case, fulfil.js), whose helpers ($, api, el, say, when, row, link,
// PAGES) it uses; everything is drawn with textContent, never as HTML.
"use strict";

const INBOX_REFRESH_MS = 15000;

function dueCell(iso) {
  const cell = el("span", iso ? when(iso) : "no due time");
  if (iso && new Date(iso) <= new Date()) cell.className = "overdue";
  return cell;
}

function button(text, onClick) {
  const b = el("button", text);
  b.type = "button";
  b.addEventListener("click", async () => {
    b.disabled = true;
    try { await onClick(); } catch (error) { say(error.message); } finally { b.disabled = false; }
  });
  return b;
}

function caseLinkTo(id, reference) {
  const a = el("a", reference ? `#${reference}` : "case");
  a.href = `/cases/view?id=${encodeURIComponent(id)}`;
  return a;
}

async function closeFollowUp(f, state, redraw) {
  await api("POST", `/api/follow-ups/${encodeURIComponent(f.id)}/close`, { state });
  await redraw();
}

function followUpButtons(f, redraw) {
  const cell = el("span");
  cell.append(button("Done", () => closeFollowUp(f, "done", redraw)), " ",
    button("Cancel", () => closeFollowUp(f, "cancelled", redraw)));
  return cell;
}

// -- a case's claim and follow-ups --

async function drawCaseFollowUps(caseId) {
  const { follow_ups: found = [] } = await api("GET",
    `/api/contacts/${encodeURIComponent(caseId)}/follow-ups?include_closed=true`);
  const list = $("case-follow-ups");
  list.replaceChildren();
  for (const f of found) {
    const item = el("li", `${when(f.due_at)} · ${f.assignee}: ${f.text}`);
    if (f.state === "open") item.append(" ", followUpButtons(f, () => drawCaseFollowUps(caseId)));
    else item.append(el("small", ` (${f.state} by ${f.closed_by})`));
    list.appendChild(item);
  }
  if (!found.length) list.appendChild(el("li", "No follow-ups."));
}

function setUpCaseInbox(caseId) {
  const claimed = (claim) => {
    $("claim-state").textContent = claim.agent
      ? `Claimed by ${claim.agent} until ${when(claim.expires_at)}` : "Not claimed";
  };
  $("claim").addEventListener("click", async () => {
    try {
      claimed(await api("POST", `/api/contacts/${encodeURIComponent(caseId)}/claim`, {}));
      say("You hold this case: nobody else can answer it while your claim lasts.", "info");
    } catch (error) { say(error.message); }
  });
  $("release").addEventListener("click", async () => {
    try {
      claimed(await api("DELETE", `/api/contacts/${encodeURIComponent(caseId)}/claim`));
    } catch (error) { say(error.message); }
  });
  $("follow-up-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const local = $("follow-up-due").value;
    try {
      await api("POST", `/api/contacts/${encodeURIComponent(caseId)}/follow-ups`, {
        text: $("follow-up-text").value,
        due_at: local ? new Date(local).toISOString() : "",
        assignee: $("follow-up-assignee").value,
      });
      $("follow-up-text").value = "";
      await drawCaseFollowUps(caseId);
    } catch (error) { say(error.message); }
  });
  drawCaseFollowUps(caseId).catch((error) => say(error.message));
}

const caseBeforeInbox = PAGES.case;
PAGES.case = async () => {
  setUpCaseInbox(new URLSearchParams(location.search).get("id"));
  await caseBeforeInbox();
};

// -- the inbox page --

function claimCell(item, me, redraw) {
  const claim = item.claim;
  if (claim && claim.agent && claim.agent !== me) {
    return el("span", `${claim.agent} until ${when(claim.expires_at)}`);
  }
  if (claim && claim.agent === me) {
    const cell = el("span", `you, until ${when(claim.expires_at)} `);
    cell.appendChild(button("Release", async () => {
      await api("DELETE", `/api/contacts/${encodeURIComponent(item.case.id)}/claim`);
      await redraw();
    }));
    return cell;
  }
  return button("Claim", async () => {
    try {
      await api("POST", `/api/contacts/${encodeURIComponent(item.case.id)}/claim`, {});
      location.href = `/cases/view?id=${encodeURIComponent(item.case.id)}`;
    } catch (error) {
      await redraw();
      throw error;
    }
  });
}

function drawReminders(reminders, seen) {
  const list = $("reminders");
  list.replaceChildren();
  for (const f of reminders) {
    const item = el("li", `${when(f.due_at)} · `);
    item.append(caseLinkTo(f.case_id, f.case_reference), ` ${f.assignee}: ${f.text}`);
    list.appendChild(item);
  }
  $("reminders-box").hidden = !reminders.length;
  const fresh = reminders.filter((f) => !seen.has(f.id));
  if (seen.size && fresh.length) say(`Reminder: ${fresh[0].text}`, "info");
  for (const f of reminders) seen.add(f.id);
}

async function drawWorkload() {
  const { agents = [], unassigned = 0 } = await api("GET", "/api/inbox/workload");
  const body = $("workload");
  body.replaceChildren();
  for (const a of agents) {
    body.appendChild(row([a.agent, a.open_cases || 0, a.open_follow_ups || 0, a.claimed || 0,
      a.due_soon || 0, a.overdue || 0]));
  }
  $("unassigned").textContent = `${unassigned} open cases routed to the team wait for someone.`;
}

function editRule(rule) {
  $("rule-id").value = rule.id || "";
  $("rule-name").value = rule.name || "";
  $("rule-position").value = rule.position || 0;
  $("rule-channel").value = rule.channel || "";
  $("rule-language").value = rule.language || "";
  $("rule-issue").value = rule.issue_prefix || "";
  $("rule-team").value = rule.team || "";
  $("rule-skill").value = rule.skill || "";
  $("rule-active").checked = Boolean(rule.active);
}

async function drawRules() {
  const { rules = [] } = await api("GET", "/api/inbox/rules");
  const body = $("rules");
  body.replaceChildren();
  for (const r of rules) {
    body.appendChild(row([r.position || 0, r.name, r.channel || "any", r.language || "any",
      r.issue_prefix || "any", r.team, r.skill, r.active ? "yes" : "no", button("Edit", () => editRule(r))]));
  }
}

function setUpRules() {
  $("rule-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const rule = {
      name: $("rule-name").value, position: Number($("rule-position").value || 0),
      channel: $("rule-channel").value, language: $("rule-language").value,
      issue_prefix: $("rule-issue").value, team: $("rule-team").value, skill: $("rule-skill").value,
      active: $("rule-active").checked,
    };
    if ($("rule-id").value) rule.id = $("rule-id").value;
    try {
      await api("POST", "/api/inbox/rules", rule);
      editRule({ active: true, position: 100 });
      say("Rule saved; the inbox follows it from now on.", "info");
      await drawRules();
    } catch (error) { say(error.message); }
  });
}

async function inboxPage() {
  const me = (await api("GET", "/api/me")).username;
  const supervisor = Boolean($("workload"));
  const seen = new Set();
  const draw = async () => {
    const scope = $("inbox-scope") ? $("inbox-scope").value : "mine";
    const query = new URLSearchParams({ scope, channel: $("inbox-channel").value });
    const page = await api("GET", `/api/inbox?${query}`);
    const body = $("inbox");
    body.replaceChildren();
    for (const item of page.items || []) {
      const c = item.case;
      body.appendChild(row([dueCell(item.due_at), link(c), c.channel, c.language, c.issue_path || c.issue_code,
        c.status, c.assignee || "", claimCell(item, me, draw), item.routed_by || "", ""]));
    }
    if (!(page.items || []).length) body.appendChild(row(["Nothing waiting."]));
    const followUps = $("follow-ups");
    followUps.replaceChildren();
    for (const f of page.follow_ups || []) {
      followUps.appendChild(row([dueCell(f.due_at), caseLinkTo(f.case_id, f.case_reference), f.text, f.assignee,
        followUpButtons(f, draw)]));
    }
    drawReminders(page.reminders || [], seen);
    if (supervisor) await drawWorkload();
  };
  $("inbox-channel").addEventListener("change", () => draw().catch((error) => say(error.message)));
  if ($("inbox-scope")) $("inbox-scope").addEventListener("change", () => draw().catch((e) => say(e.message)));
  await draw();
  // Reminders come due while the page is open: look again on a schedule.
  setInterval(() => draw().catch((error) => say(error.message)), INBOX_REFRESH_MS);
}

async function rulesPage() {
  setUpRules();
  await drawRules();
}

PAGES.inbox = inboxPage;
PAGES["inbox-rules"] = rulesPage;
