// The CRS chat widget: <script src="https://<channels>/chat/widget.js" async></script> on the brand's page.
// It draws a button and a panel in its own shadow root and talks to the socket beside this script.
(() => {
  "use strict";
  const script = document.currentScript;
  if (!script || window.__crsChat) return;
  window.__crsChat = true;
  const base = new URL(script.src);
  const socketUrl = `${base.protocol === "https:" ? "wss:" : "ws:"}//${base.host}/chat/ws`;
  const language = (navigator.language || "en").split("-")[0].toLowerCase();
  // This tab's chat: a reload presents it and the chat goes on (sessionStorage is the tab's own).
  const TOKEN = "crs-chat-token";
  const stored = () => { try { return sessionStorage.getItem(TOKEN) || ""; } catch { return ""; } };
  const keep = (token) => {
    try { if (token) sessionStorage.setItem(TOKEN, token); else sessionStorage.removeItem(TOKEN); } catch {}
  };

  const host = document.createElement("div");
  host.id = "crs-chat";
  document.body.appendChild(host);
  const root = host.attachShadow({ mode: "open" });
  root.innerHTML = `
    <style>
      :host { all: initial; font: 14px/1.4 system-ui, sans-serif; }
      .launch { position: fixed; right: 20px; bottom: 20px; padding: 10px 16px; border: 0;
        border-radius: 20px; background: #1f5fa8; color: #fff; cursor: pointer; }
      .panel { position: fixed; right: 20px; bottom: 70px; width: 320px; max-height: 480px; display: flex;
        flex-direction: column; background: #fff; border: 1px solid #ccc; border-radius: 8px;
        box-shadow: 0 4px 16px rgba(0,0,0,.2); }
      .panel[hidden], form[hidden] { display: none; }
      .status { padding: 8px 12px; background: #f3f5f8; border-bottom: 1px solid #ddd; }
      ol { list-style: none; margin: 0; padding: 8px 12px; overflow-y: auto; flex: 1; min-height: 60px; }
      li { margin: 4px 0; }
      li.mine { text-align: right; }
      .state { color: #777; font-size: 11px; margin-left: 4px; }
      .typing { padding: 0 12px; color: #777; font-style: italic; min-height: 1.4em; }
      form { display: flex; flex-direction: column; gap: 6px; padding: 8px 12px; }
      input, textarea { font: inherit; padding: 4px 6px; }
      .error { color: #a11; padding: 0 12px; }
      li.assistant .body { white-space: pre-line; }
      .answer-actions { display: flex; gap: 6px; margin-top: 4px; }
      .answer-actions button, .person { font-size: 12px; }
      .person[hidden] { display: none; }
    </style>
    <button class="launch" part="launch" type="button">Chat with us</button>
    <div class="panel" hidden>
      <div class="status" role="status">Connecting…</div>
      <ol class="lines" aria-live="polite"></ol>
      <div class="typing"></div>
      <div class="error" role="alert"></div>
      <form class="start" hidden>
        <input name="name" placeholder="Your name (optional)" maxlength="200" autocomplete="name">
        <input name="email" type="email" placeholder="Your email (optional)" maxlength="200" autocomplete="email">
        <textarea name="body" placeholder="How can we help?" maxlength="2000" required></textarea>
        <button type="submit">Start chat</button>
      </form>
      <form class="say" hidden>
        <textarea name="body" placeholder="Type a message" maxlength="2000" required></textarea>
        <button type="submit">Send</button>
        <button class="person" type="button" hidden>Talk to a person</button>
        <label>Attach a picture or PDF (at most 3 MiB)
          <input class="file" type="file" accept="image/jpeg,image/png,image/gif,application/pdf"></label>
      </form>
      <form class="leave" hidden>
        <input name="name" placeholder="Your name (optional)" maxlength="200" autocomplete="name">
        <input name="email" type="email" placeholder="Your email" maxlength="200" required autocomplete="email">
        <textarea name="body" placeholder="Your message" maxlength="2000" required></textarea>
        <button type="submit">Leave a message</button>
      </form>
    </div>`;
  const $ = (selector) => root.querySelector(selector);
  const panel = $(".panel");
  const forms = { start: $("form.start"), say: $("form.say"), leave: $("form.leave") };
  const states = new Map();
  let socket = null;
  let typingTimer = 0;
  let lastTyping = 0;

  const status = (text) => { $(".status").textContent = text; };
  const show = (name) => {
    for (const [key, form] of Object.entries(forms)) form.hidden = key !== name;
  };
  const send = (frame) => {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
  };

  function addLine(line, mine) {
    const item = document.createElement("li");
    item.className = mine ? "mine" : "theirs";
    item.dataset.lineId = String(line.id);
    const who = document.createElement("b");
    who.textContent = mine ? "You: " : `${line.author}: `;
    let text = document.createElement("span");
    if (line.file) {
      // Only this chat's token opens its files; the link is good while the chat is open.
      text = document.createElement("a");
      text.href = `${base.origin}/chat/files/${encodeURIComponent(line.file.id)}?token=${encodeURIComponent(stored())}`;
      text.rel = "noopener noreferrer";
      text.textContent = `${line.file.filename} (${Math.ceil(line.file.size / 1024)} KB)`;
    } else {
      text.textContent = line.body;
    }
    text.className = "body";
    item.append(who, text);
    if (mine) {
      const state = document.createElement("span");
      state.className = "state";
      state.textContent = "sent";
      item.append(state);
      states.set(line.id, state);
    }
    if (line.assistant) item.classList.add("assistant");
    if (line.article) item.append(answerActions());
    $(".lines").append(item);
    item.scrollIntoView({ block: "end" });
  }

  // Under the assistant's answer: the consumer says it did it, or asks for a person.
  function answerActions() {
    const actions = document.createElement("div");
    actions.className = "answer-actions";
    const choices = [["That answers my question", "resolved"], ["Talk to a person", "agent"]];
    for (const [label, type] of choices) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = label;
      button.dataset.action = type;
      button.addEventListener("click", () => {
        send({ type });
        for (const other of root.querySelectorAll(".answer-actions button")) other.disabled = true;
      });
      actions.append(button);
    }
    return actions;
  }
  let handedOff = false;
  const withAgent = (text) => {
    handedOff = true;
    status(text);
    $(".person").hidden = true;
    for (const button of root.querySelectorAll(".answer-actions button")) button.disabled = true;
  };

  const handlers = {
    welcome(m) {
      keep("");
      if (m.available) {
        status("Chat with us");
        show("start");
      } else {
        status("No one is free to chat just now: leave us a message and we will answer by email.");
        show("leave");
      }
    },
    // A chat handed off at once has heard "agent" or "waiting" before "started": that status stands.
    started(m) {
      keep(m.token);
      if (!handedOff) {
        status(m.assistant ? `Our assistant: case ${m.case_reference}` : `Connected: case ${m.case_reference}`);
      }
      show("say");
      $(".person").hidden = !m.assistant;
    },
    agent(m) { withAgent(`${m.name} has joined the chat`); },
    waiting() { withAgent("Waiting for the next free agent…"); },
    sent(m) { addLine(m.line, true); },
    line(m) {
      $(".typing").textContent = "";
      addLine(m.line, false);
      send({ type: "delivered", line_id: m.line.id });
    },
    delivered(m) {
      const state = states.get(m.line_id);
      if (state) state.textContent = "delivered";
    },
    typing() {
      $(".typing").textContent = "The agent is typing…";
      clearTimeout(typingTimer);
      typingTimer = setTimeout(() => { $(".typing").textContent = ""; }, 4000);
    },
    unavailable() {
      status("No one is free to chat just now: leave us a message and we will answer by email.");
      forms.leave.elements.body.value = forms.start.elements.body.value;
      forms.leave.elements.name.value = forms.start.elements.name.value;
      forms.leave.elements.email.value = forms.start.elements.email.value;
      show("leave");
    },
    resumed(m) {
      for (const line of m.lines) addLine(line, line.mine);
      status(m.assistant ? `Our assistant: case ${m.case_reference}` : `Back in the chat: case ${m.case_reference}`);
      show("say");
      $(".person").hidden = !m.assistant;
    },
    left(m) { status(`Thank you: your message is case ${m.case_reference}. We will answer by email.`); show(""); },
    ended(m) { keep(""); status(`The chat has ended (${m.detail}).`); show(""); },
    error(m) { $(".error").textContent = m.detail; },
  };

  function connect() {
    socket = new WebSocket(socketUrl);
    socket.addEventListener("open", () => send({ type: "hello", language, resume: stored() }));
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      $(".error").textContent = "";
      (handlers[message.type] || (() => {}))(message);
    });
    socket.addEventListener("close", () => {
      if (!forms.say.hidden) status("The chat was disconnected.");
      show("");
    });
  }

  const fields = (form) => Object.fromEntries(new FormData(form).entries());
  forms.start.addEventListener("submit", (event) => {
    event.preventDefault();
    send({ type: "start", ...fields(forms.start) });
  });
  forms.say.addEventListener("submit", (event) => {
    event.preventDefault();
    send({ type: "say", body: forms.say.elements.body.value });
    forms.say.elements.body.value = "";
  });
  forms.say.elements.body.addEventListener("input", () => {
    if (Date.now() - lastTyping > 2000) {
      lastTyping = Date.now();
      send({ type: "typing" });
    }
  });
  $(".person").addEventListener("click", () => send({ type: "agent" }));
  // A file goes over HTTP, not the socket; its line comes back on the socket as "sent".
  $(".file").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    event.target.value = "";
    if (!file) return;
    const answer = await fetch(`${base.origin}/chat/files`, {
      method: "POST",
      headers: { "X-Chat-Token": stored(), "X-Filename": encodeURIComponent(file.name), "Content-Type": "application/octet-stream" },
      body: file,
    }).catch(() => null);
    if (!answer || !answer.ok) {
      const data = answer ? await answer.json().catch(() => ({})) : {};
      status(`The file was not sent: ${data.error || "please try again"}`);
    }
  });
  forms.leave.addEventListener("submit", (event) => {
    event.preventDefault();
    send({ type: "leave", ...fields(forms.leave) });
  });
  $(".launch").addEventListener("click", () => {
    panel.hidden = !panel.hidden;
    if (!panel.hidden && !socket) connect();
  });
  if (stored()) {
    panel.hidden = false;
    connect();
  }
})();
