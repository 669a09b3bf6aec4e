"use strict";
// The scanned-letter page: upload the scan, correct the OCR draft, open the case. On a case page: the
// scans on the case, and the reply offered as a fulfillment letter rather than an email.
(() => {
const $ = (id) => document.getElementById(id);
const csrf = () => (document.querySelector('meta[name="csrf"]') || {}).content || "";

async function send(method, path, body, type) {
  const options = { method, credentials: "same-origin", headers: { "X-CSRF-Token": csrf() } };
  if (body !== undefined) {
    options.headers["Content-Type"] = type || "application/json";
    options.body = type ? body : JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || `the server answered ${response.status}`);
  return data;
}

function tell(text, kind) {
  const box = $("message");
  box.textContent = text;
  box.className = `message ${kind || "error"}`;
  box.hidden = !text;
}

function uploadPage() {
  let scan = null;
  $("scan-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = $("scan-file").files[0];
    if (!file) return;
    tell("Reading the letter…", "info");
    const query = new URLSearchParams({ filename: file.name, language: $("scan-language").value });
    try {
      scan = await send("POST", `/api/letters/drafts?${query}`, file, "application/octet-stream");
    } catch (error) {
      tell(error.message);
      return;
    }
    $("letter-verbatim").value = scan.draft || "";
    $("confirm-form").hidden = false;
    tell(scan.draft ? "" : "OCR read no text: type the letter's text.", "info");
  });
  $("confirm-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const filed = await send("POST", `/api/letters/drafts/${scan.id}/confirm`, {
        verbatim: $("letter-verbatim").value,
        consumer_id: $("letter-consumer").value.trim(),
        reporter_name: $("letter-writer").value.trim(),
      });
      window.location.assign(`/cases/view?id=${encodeURIComponent(filed.case_id)}`);
    } catch (error) {
      tell(error.message);
    }
  });
}

async function casePage() {
  const section = $("letter-scans");
  const caseId = new URLSearchParams(location.search).get("id");
  let scans = [];
  try {
    ({ scans } = await send("GET", `/api/contacts/${encodeURIComponent(caseId)}/letters`));
  } catch (error) {
    return;
  }
  if (!scans.length) return;
  section.hidden = false;
  const list = $("letter-scan-list");
  for (const scan of scans) {
    const url = `/letters/scans/${encodeURIComponent(caseId)}/${encodeURIComponent(scan.id)}`;
    const item = document.createElement("li");
    if (scan.content_type === "image/png" || scan.content_type === "image/jpeg") {
      const image = document.createElement("img");
      image.src = url;
      image.alt = `The scanned letter ${scan.filename || ""}`;
      image.className = "letter-scan";
      item.appendChild(image);
    }
    const link = document.createElement("a");
    link.href = url;
    link.target = "_blank";
    link.rel = "noopener";
    link.textContent = `Open the scan (${scan.filename || scan.content_type})`;
    item.appendChild(link);
    list.appendChild(item);
  }
  // A letter is answered by letter: the fulfillment form offers one.
  const kind = $("fulfil-kind");
  if (kind) {
    kind.value = "letter";
    kind.dispatchEvent(new Event("change"));
  }
}

document.addEventListener("DOMContentLoaded", () => {
  if ($("scan-form")) uploadPage();
  if ($("letter-scans")) casePage();
});
})();
