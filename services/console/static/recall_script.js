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

// Each box marked data-recall-sku names the form's SKU and lot inputs (and a product list, if any) it
// watches: the capture form beside the pop and the Cases page's form alike.
(() => {
  const byId = (id) => document.getElementById(id);

  function watch(box) {
    const sku = byId(box.dataset.recallSku);
    const lot = byId(box.dataset.recallLot);
    let waiting = null;
    let asked = 0;

    async function ask(product, lotCode) {
      const mine = ++asked;
      if (!product) {
        box.hidden = true;
        return;
      }
      const query = new URLSearchParams({ sku: product, lot_code: lotCode });
      const reply = await fetch(`/api/recalls/find?${query}`, { credentials: "same-origin" });
      if (mine !== asked || !reply.ok) return; // a later keystroke asked again, or insights is unavailable
      const { recalls } = await reply.json();
      const block = recallBlock(recalls, !lotCode);
      box.replaceChildren(...(block ? [block] : []));
      box.hidden = !block;
    }

    function soon() {
      clearTimeout(waiting);
      const product = sku.value.trim();
      const lotCode = lot.value.trim();
      waiting = setTimeout(() => ask(product, lotCode).catch(() => {}), 300);
    }

    sku.addEventListener("input", soon);
    lot.addEventListener("input", soon);
    // Picking a product fills the SKU from script, which fires no input event.
    const list = box.dataset.recallProduct && byId(box.dataset.recallProduct);
    if (list) list.addEventListener("change", () => setTimeout(soon, 0));
    sku.form.addEventListener("reset", () => {
      asked++;
      box.hidden = true;
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const box of document.querySelectorAll("[data-recall-sku]")) watch(box);
  });
})();
