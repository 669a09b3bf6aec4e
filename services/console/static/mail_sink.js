// The development mail sink: what channels' sink received, newest first. Drawn with textContent only.
"use strict";

function line(label, value) {
  const row = document.createElement("div");
  const name = document.createElement("b");
  name.textContent = `${label}: `;
  row.append(name, document.createTextNode(value || ""));
  return row;
}

document.addEventListener("DOMContentLoaded", async () => {
  const box = document.getElementById("message");
  try {
    const response = await fetch("/api/mail-sink", { credentials: "same-origin" });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error || `the server answered ${response.status}`);
    const items = (data.mail || []).map((mail) => {
      const item = document.createElement("li");
      item.className = "sink-mail";
      const body = document.createElement("pre");
      body.textContent = mail.body;
      item.append(
        line("Received", mail.received_at),
        line("From", mail.from_address),
        line("To", mail.to_address),
        line("Subject", mail.subject),
        line("Message-ID", mail.message_id),
        line("In-Reply-To", mail.in_reply_to),
        line("References", mail.references),
        line("DKIM", mail.dkim_signed ? "signed" : "not signed"),
        body,
      );
      return item;
    });
    document.getElementById("sink").replaceChildren(...items);
    if (!items.length) {
      box.textContent = "The sink has received nothing yet.";
      box.className = "message ok";
      box.hidden = false;
    }
  } catch (error) {
    box.textContent = error.message;
    box.className = "message error";
    box.hidden = false;
  }
});
