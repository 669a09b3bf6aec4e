// A campaign's page: while it runs, its figures refresh from /api/campaigns/{id}/progress every two seconds,
// and the page reloads once the state changes (new buttons, the results). Without it the page shows the
// figures as they were when it loaded.
"use strict";

(function () {
  const card = document.getElementById("campaign-progress");
  if (!card) return;
  const id = card.dataset.campaign;
  const shown = document.getElementById("campaign-state").textContent.trim();
  if (shown !== "running" && shown !== "paused") return;
  const bar = document.getElementById("campaign-bar");

  async function refresh() {
    let progress;
    try {
      const reply = await fetch(`/api/campaigns/${encodeURIComponent(id)}/progress`, { headers: { Accept: "application/json" } });
      if (!reply.ok) return;
      progress = await reply.json();
    } catch (err) {
      return; // outreach away for a moment: the figures stay as they were, and the next poll tries again
    }
    for (const field of ["total", "sent", "deferred", "suppressed", "failed", "remaining"]) {
      const cell = card.querySelector(`[data-progress="${field}"]`);
      if (cell) cell.textContent = String(progress[field] || 0);
    }
    const total = progress.total || 0;
    bar.value = total ? Math.floor(((total - (progress.remaining || 0)) * 100) / total) : 0;
    bar.textContent = `${bar.value}%`;
    if (progress.state !== shown) window.location.reload();
  }
  window.setInterval(refresh, 2000);
})();
