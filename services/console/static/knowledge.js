// The knowledge pages: search for agents, review and publish for supervisors and admins. Drawn with
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

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function articleItem(a) {
  const item = el("li");
  item.dataset.article = a.id;
  const title = el("h3", a.title);
  if (a.other_language) title.append(el("span", ` (in ${a.language}: none in the question's language)`, "hint"));
  item.append(title, el("p", a.body));
  return item;
}

function searchPage() {
  $("kb-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    say("");
    const params = new URLSearchParams({ q: $("kb-q").value, language: $("kb-language").value, product_sku: $("kb-sku").value });
    try {
      const { articles } = await api("GET", `/api/knowledge/search?${params}`);
      $("kb-results").replaceChildren(...articles.map(articleItem));
      if (!articles.length) say("No published article matches.", "info");
    } catch (error) {
      say(error.message);
    }
  });
}

async function reviewPage() {
  const { articles } = await api("GET", "/api/knowledge/articles");
  const rows = articles.map((a) => {
    const tr = el("tr");
    tr.dataset.article = `${a.id}.${a.language}`;
    const state = el("td", a.state);
    const act = el("td");
    const step = a.state === "draft" ? "review" : a.state === "reviewed" ? "publish" : "";
    if (step) {
      const button = el("button", step === "review" ? "Mark reviewed" : "Publish");
      button.type = "button";
      button.addEventListener("click", async () => {
        say("");
        try {
          const changed = await api("POST", `/api/knowledge/articles/${encodeURIComponent(a.id)}/${a.language}/${step}`);
          state.textContent = changed.state;
          button.remove();
        } catch (error) {
          say(error.message);
        }
      });
      act.append(button);
    }
    tr.append(el("td", a.id), el("td", a.language), el("td", a.version), el("td", a.title), el("td", a.author), state, act);
    return tr;
  });
  $("kb-articles").replaceChildren(...rows);
}

async function answersPage() {
  const report = await api("GET", "/api/knowledge/answers");
  $("kb-days").textContent = report.days;
  $("kb-threshold").textContent = report.answer_threshold;
  $("kb-threshold-changed").textContent = `set by ${report.threshold_changed_by} at ${report.threshold_changed_at}`;
  const rows = (report.counts || []).map((c) => {
    const tr = el("tr");
    tr.append(el("td", c.channel), el("td", c.outcome), el("td", c.hand_off_reason || ""), el("td", c.count));
    return tr;
  });
  if (!rows.length) {
    const none = el("td", "No automated answers in this period.");
    none.colSpan = 4;
    rows.push(el("tr"));
    rows[0].append(none);
  }
  $("kb-outcomes").replaceChildren(...rows);
  const form = $("kb-threshold-form");
  if (form && !form.dataset.bound) {
    form.dataset.bound = "yes";
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const value = Number(new FormData(form).get("answer_threshold"));
        await api("POST", "/api/knowledge/threshold", { answer_threshold: value });
        say("Threshold saved.", "ok");
        await answersPage();
      } catch (error) {
        say(error.message);
      }
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const page = document.body.dataset.page;
  if (page === "knowledge-search") searchPage();
  if (page === "knowledge-review") reviewPage().catch((error) => say(error.message));
  if (page === "knowledge-answers") answersPage().catch((error) => say(error.message));
});
