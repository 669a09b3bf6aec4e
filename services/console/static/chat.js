// The chat desk: one socket; each chat routed to this agent is a panel. Text is set with textContent only.
"use strict";

const statusEl = document.getElementById("status");
const list = document.getElementById("chats");
const template = document.getElementById("chat-template");
const chats = new Map(); // chat_id -> {panel, states: Map(line_id -> element)}
let socket = null;

function setStatus(text, kind) {
  statusEl.textContent = text;
  statusEl.className = "status " + kind;
}

const send = (frame) => socket && socket.readyState === WebSocket.OPEN && socket.send(JSON.stringify(frame));

function addLine(chat, id, line) {
  const lines = chat.panel.querySelector('[data-role="lines"]');
  if (lines.querySelector(`[data-line-id="${line.id}"]`)) return;
  const item = document.createElement("li");
  // The assistant's lines (before the chat was handed over) are the centre's, not this agent's.
  const assistant = line.author === "assistant";
  const mine = line.author !== "consumer" && !assistant;
  item.className = mine ? "mine" : assistant ? "assistant" : "theirs";
  item.dataset.lineId = line.id;
  const who = document.createElement("b");
  who.textContent = mine ? "You: " : assistant ? "Assistant: " : "Consumer: ";
  let body = document.createElement("span");
  if (line.file) {
    // A file sent into the chat opens through the console, which checks this session may read the case.
    body = document.createElement("a");
    body.href = `/attachments/${encodeURIComponent(chat.caseId)}/${encodeURIComponent(line.file.id)}`;
    body.textContent = `${line.file.filename} (${line.file.content_type}, ${line.file.size} bytes)`;
  }
  body.className = "body";
  if (!line.file) body.textContent = line.body;
  item.append(who, body);
  if (mine) {
    const state = document.createElement("span");
    state.className = "state";
    state.textContent = "sent";
    item.append(state);
    chat.states.set(String(line.id), state);
  } else {
    send({ kind: "delivered", chat_id: id, line_id: Number(line.id) });
  }
  lines.append(item);
  chat.panel.querySelector('[data-role="typing"]').textContent = "";
}

// A file goes over HTTP (the socket's frames are small); its line comes back on the socket like a reply.
async function sendFile(chat, id, file) {
  const csrf = (document.querySelector('meta[name="csrf"]') || {}).content || "";
  const error = chat.panel.querySelector('[data-role="error"]');
  error.textContent = "";
  const response = await fetch(`/api/chat/${encodeURIComponent(id)}/files`, {
    method: "POST",
    credentials: "same-origin",
    headers: { "X-CSRF-Token": csrf, "X-Filename": encodeURIComponent(file.name), "Content-Type": "application/octet-stream" },
    body: file,
  });
  if (!response.ok) {
    const data = await response.json().catch(() => ({}));
    error.textContent = `The file was not sent: ${data.error || `the server answered ${response.status}`}`;
  }
}

function openChat(event) {
  let chat = chats.get(event.chat_id);
  if (!chat) {
    const panel = template.content.firstElementChild.cloneNode(true);
    panel.dataset.chatId = event.chat_id;
    chat = { panel, states: new Map(), typingTimer: 0, caseId: event.case_id };
    chats.set(event.chat_id, chat);
    document.getElementById("no-chats").hidden = true;
    list.prepend(panel);
    const form = panel.querySelector('[data-role="reply"]');
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      send({ kind: "reply", chat_id: event.chat_id, body: form.elements.body.value });
      form.elements.body.value = "";
    });
    let lastTyping = 0;
    form.elements.body.addEventListener("input", () => {
      if (Date.now() - lastTyping > 2000) {
        lastTyping = Date.now();
        send({ kind: "typing", chat_id: event.chat_id });
      }
    });
    panel.querySelector('[data-role="file"]').addEventListener("change", (e) => {
      const file = e.target.files[0];
      e.target.value = "";
      if (file) sendFile(chat, event.chat_id, file);
    });
    panel.querySelector('[data-role="end"]').addEventListener("click", () => {
      send({ kind: "end", chat_id: event.chat_id });
    });
  }
  const p = chat.panel;
  p.querySelector('[data-role="who"]').textContent = event.consumer_name || event.consumer_email || "Visitor";
  const link = p.querySelector('[data-role="case"]');
  link.textContent = `Case ${event.case_reference}`;
  link.href = `/cases/view?id=${encodeURIComponent(event.case_id)}`;
  const escalated = event.detail === "escalated" ? " · escalated: handed over by the assistant at once" : "";
  p.querySelector('[data-role="language"]').textContent = `(${event.language})${escalated}`;
  for (const line of event.lines || []) addLine(chat, event.chat_id, line);
}

const handlers = {
  ready(e) { setStatus(`Available for chat (${e.detail})`, "live"); },
  chat: openChat,
  line(e) {
    const chat = chats.get(e.chat_id);
    if (chat) for (const line of e.lines) addLine(chat, e.chat_id, line);
  },
  typing(e) {
    const chat = chats.get(e.chat_id);
    if (!chat) return;
    const typing = chat.panel.querySelector('[data-role="typing"]');
    typing.textContent = "The consumer is typing…";
    clearTimeout(chat.typingTimer);
    chat.typingTimer = setTimeout(() => { typing.textContent = ""; }, 4000);
  },
  delivered(e) {
    const chat = chats.get(e.chat_id);
    const state = chat && chat.states.get(String(e.line_id));
    if (state) state.textContent = "delivered";
  },
  ended(e) {
    const chat = chats.get(e.chat_id);
    if (!chat) return;
    chat.panel.classList.add("ended");
    chat.panel.querySelector('[data-role="reply"]').hidden = true;
    chat.panel.querySelector('[data-role="typing"]').textContent = `Ended: ${e.detail}`;
  },
  refused(e) {
    const chat = chats.get(e.chat_id);
    if (chat) chat.panel.querySelector('[data-role="error"]').textContent = e.detail;
  },
};

function connect() {
  socket = new WebSocket(`${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/ws/chat`);
  socket.addEventListener("message", (m) => {
    const event = JSON.parse(m.data);
    (handlers[event.kind] || (() => {}))(event);
  });
  socket.addEventListener("close", () => {
    setStatus("Not available: reconnecting…", "idle");
    setTimeout(connect, 2000);
  });
}
connect();
