// Agent assist beside the capture form: as the consumer's words are typed, the likely issue codes and the
// articles that answer them. A code is only filled in when the agent picks it.
"use strict";

(() => {
  const byId = (id) => document.getElementById(id);
  const csrf = (document.querySelector('meta[name="csrf"]') || {}).content || "";
  let waiting = null;
  let asked = 0;

  function node(tag, text, className) {
    const n = document.createElement(tag);
    if (text !== undefined) n.textContent = String(text);
    if (className) n.className = className;
    return n;
  }

  function pick(code) {
    const input = byId("capture-issue");
    input.value = code;
    input.dispatchEvent(new Event("input"));
  }

  function show({ codes, articles }) {
    const box = byId("capture-assist");
    byId("capture-suggested-codes").replaceChildren(...codes.map((c) => {
      const button = node("button", `${c.path} (${Math.round(c.score * 100)} %)`, "chip");
      button.type = "button";
      button.dataset.code = c.code;
      button.addEventListener("click", () => pick(c.code));
      return button;
    }));
    byId("capture-articles").replaceChildren(...articles.map((a) => {
      const item = node("li");
      item.dataset.article = a.id;
      item.append(node("b", a.title), node("span", a.other_language ? ` (${a.language})` : ""), node("p", a.body));
      return item;
    }));
    box.hidden = !codes.length && !articles.length;
  }

  async function ask(verbatim) {
    const mine = ++asked;
    const reply = await fetch("/api/assist", {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, "Content-Type": "application/json" },
      body: JSON.stringify({ verbatim: verbatim.slice(0, 4000), product_sku: byId("capture-sku").value }),
    });
    if (mine !== asked || !reply.ok) return; // a later keystroke asked again, or assist is unavailable
    show(await reply.json());
  }

  document.addEventListener("DOMContentLoaded", () => {
    const verbatim = byId("capture-verbatim");
    if (!verbatim) return;
    verbatim.addEventListener("input", () => {
      clearTimeout(waiting);
      const text = verbatim.value.trim();
      if (text.length < 8) return;
      waiting = setTimeout(() => ask(text).catch(() => {}), 400);
    });
    byId("capture-form").addEventListener("reset", () => {
      asked++;
      byId("capture-assist").hidden = true;
    });
  });
})();
