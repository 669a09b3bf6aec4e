// Recall mode beside the call: the approved script of an open recall on the pop (for a product the consumer
// bought) and in the capture form (for the product and lot the agent types or picks). The form works the
// same without it; the script is read as written, so it is shown as text, never as markup.
"use strict";

function recallBlock(recalls, lotAsked) {
  if (!recalls || !recalls.length) return null;
  const item = (r) => {
    const lots = (r.lot_codes || []).length ? `lots ${r.lot_codes.join(", ")}` : "every lot";
    const box = document.createElement("div");
    box.className = "recall";
    box.dataset.recall = r.recall_id || r.id;
    const head = document.createElement("h4");
    head.textContent = `Recall: ${r.title} (${r.sku}, ${lots})`;
    const script = document.createElement("ol");
    script.className = "script";
    for (const line of r.script || []) {
      const li = document.createElement("li");
      li.textContent = line;
      script.append(li);
    }
    box.append(head, script);
    if (lotAsked && (r.lot_codes || []).length) {
      const ask = document.createElement("p");
      ask.className = "hint";
      ask.textContent = "Ask for the lot code printed on the pack.";
      box.append(ask);
    }
    return box;
  };
  const section = document.createElement("section");
  section.className = "recalls";
  section.setAttribute("role", "alert");
  section.append(...recalls.map(item));
  return section;
}

(() => {
  const byId = (id) => document.getElementById(id);
  let waiting = null;
  let asked = 0;

  async function ask(sku, lot) {
    const mine = ++asked;
    const box = byId("capture-recall");
    if (!sku) {
      box.hidden = true;
      return;
    }
    const query = new URLSearchParams({ sku, lot_code: lot });
    const reply = await fetch(`/api/recalls/find?${query}`, { credentials: "same-origin" });
    if (mine !== asked || !reply.ok) return; // a later keystroke asked again, or insights is unavailable
    const { recalls } = await reply.json();
    const block = recallBlock(recalls, !lot);
    box.replaceChildren(...(block ? [block] : []));
    box.hidden = !block;
  }

  function soon() {
    clearTimeout(waiting);
    const sku = byId("capture-sku").value.trim();
    const lot = byId("capture-lot").value.trim();
    waiting = setTimeout(() => ask(sku, lot).catch(() => {}), 300);
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (!byId("capture-recall")) return;
    for (const id of ["capture-sku", "capture-lot"]) byId(id).addEventListener("input", soon);
    // Picking a product fills the SKU from script, which fires no input event.
    byId("capture-product").addEventListener("change", () => setTimeout(soon, 0));
    byId("capture-form").addEventListener("reset", () => {
      asked++;
      byId("capture-recall").hidden = true;
    });
  });
})();
