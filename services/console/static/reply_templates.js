// The admin's reply templates: listed, added, changed and deleted through /api/reply-templates. Drawn with
// textContent, never as HTML; every change carries the session's CSRF token.
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
  if (!response.ok) throw new Error(data.error || `the server answered ${response.status}`);
  return data;
}

function say(text, kind) {
  const box = $("message");
  box.textContent = text;
  box.className = `message ${kind || "error"}`;
  box.hidden = !text;
}

function edit(template) {
  $("template-id").value = template ? template.id : 0;
  $("template-name").value = template ? template.name : "";
  $("template-language").value = template ? template.language : "";
  $("template-body").value = template ? template.body : "";
  $("form-title").textContent = template ? `Change "${template.name}" (${template.language})` : "Add a template";
}

async function draw() {
  const { templates = [] } = await api("GET", "/api/reply-templates");
  const rows = templates.map((t) => {
    const row = document.createElement("tr");
    for (const text of [t.name, t.language, t.body.slice(0, 120), t.updated_by || ""]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    const actions = document.createElement("td");
    const change = document.createElement("button");
    change.textContent = "Change";
    change.addEventListener("click", () => edit(t));
    const remove = document.createElement("button");
    remove.textContent = "Delete";
    remove.addEventListener("click", async () => {
      try {
        await api("DELETE", `/api/reply-templates/${t.id}`);
        say(`Deleted "${t.name}" (${t.language}).`, "ok");
        await draw();
      } catch (error) {
        say(error.message);
      }
    });
    actions.append(change, remove);
    row.append(actions);
    return row;
  });
  $("templates").replaceChildren(...rows);
}

document.addEventListener("DOMContentLoaded", async () => {
  $("new-template").addEventListener("click", () => edit(null));
  $("template-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const saved = await api("POST", "/api/reply-templates", {
        id: Number($("template-id").value) || 0,
        name: $("template-name").value,
        language: $("template-language").value,
        body: $("template-body").value,
      });
      say(`Saved "${saved.name}" (${saved.language}).`, "ok");
      edit(null);
      await draw();
    } catch (error) {
      say(error.message);
    }
  });
  try {
    await draw();
  } catch (error) {
    say(error.message);
  }
});
