// The stakeholder lists: listed for analysts and admins, added to and removed from by admins, through
// /api/stakeholders. Drawn with textContent, never as HTML; every change carries the session's CSRF token.
"use strict";

const $ = (id) => document.getElementById(id);
const LISTS = { qa: "Quality assurance", marketing: "Marketing", legal: "Legal" };

async function api(method, path, body) {
  const csrf = (document.querySelector('meta[name="csrf"]') || {}).content || "";
  const options = { method, credentials: "same-origin", headers: { "X-CSRF-Token": csrf } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || `the server answered ${response.status}`);
  return data;
}

function say(text, kind) {
  const box = $("message");
  box.textContent = text;
  box.className = `message ${kind || "error"}`;
  box.hidden = !text;
}

async function draw() {
  const { stakeholders = [] } = await api("GET", "/api/stakeholders");
  const editing = Boolean($("stakeholder-form"));
  const rows = stakeholders.map((p) => {
    const row = document.createElement("tr");
    for (const text of [LISTS[p.role] || p.role, p.name, p.email]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    const actions = document.createElement("td");
    if (editing) {
      const remove = document.createElement("button");
      remove.textContent = "Remove";
      remove.addEventListener("click", async () => {
        try {
          await api("DELETE", `/api/stakeholders/${encodeURIComponent(p.role)}/${encodeURIComponent(p.email)}`);
          say(`Removed ${p.email} from ${LISTS[p.role]}.`, "ok");
          await draw();
        } catch (error) {
          say(error.message);
        }
      });
      actions.append(remove);
    }
    row.append(actions);
    return row;
  });
  $("stakeholders").replaceChildren(...rows);
}

document.addEventListener("DOMContentLoaded", async () => {
  const form = $("stakeholder-form");
  if (form) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const person = { role: $("stakeholder-role").value, name: $("stakeholder-name").value,
                       email: $("stakeholder-email").value };
      try {
        const kept = await api("POST", "/api/stakeholders", person);
        say(`${kept.name} (${kept.email}) is on ${LISTS[kept.role]}.`, "ok");
        form.reset();
        await draw();
      } catch (error) {
        say(error.message);
      }
    });
  }
  try {
    await draw();
  } catch (error) {
    say(error.message);
  }
});
