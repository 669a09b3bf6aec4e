// The letter templates page: each standard letter per language, its preview (a PDF in a new tab), and for
// admins the form that writes one and the button that retires one. Loaded after cases.js, whose helpers
// ($, api, say, when, row, PAGES) it uses; everything is drawn with textContent, never as HTML.
"use strict";

const LETTER_FIELDS = ["subject", "greeting", "closing"];

function letterButton(label, action) {
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = label;
  button.addEventListener("click", action);
  return button;
}

async function lettersPage() {
  const form = $("letter-form");
  const draw = async () => {
    const { templates = [], changes = [] } = await api("GET", "/api/letter-templates");
    const body = $("letter-templates");
    body.replaceChildren();
    for (const t of templates) {
      const paragraphs = t.paragraphs || [];
      const tr = row([t.name, t.language, t.subject, paragraphs.length, t.retired ? "retired" : "offered", ""]);
      tr.dataset.name = t.name;
      tr.dataset.language = t.language;
      const preview = document.createElement("a");
      preview.textContent = "Preview";
      preview.target = "_blank";
      preview.href = `/api/letter-templates/${encodeURIComponent(t.name)}/${encodeURIComponent(t.language)}/preview`;
      tr.lastChild.appendChild(preview);
      if (form && !t.retired) {
        tr.lastChild.appendChild(letterButton("Edit", () => {
          $("letter-name").value = t.name;
          $("letter-language").value = t.language;
          for (const name of LETTER_FIELDS) $(`letter-${name}`).value = t[name] || "";
          $("letter-paragraphs").value = paragraphs.join("\n\n");
          $("letter-paragraphs").focus();
        }));
        tr.lastChild.appendChild(letterButton("Retire", async () => {
          try {
            await api("DELETE", `/api/letter-templates/${encodeURIComponent(t.name)}`);
            await draw();
            say(`${t.name} retired: no new letter can choose it.`, "info");
          } catch (error) {
            say(error.message);
          }
        }));
      }
      body.appendChild(tr);
    }
    $("letter-changes").replaceChildren(...changes.map((c) =>
      row([when(c.changed_at), c.changed_by, `${c.name} ${c.language}`, c.before_json || "none",
        c.after_json || "retired"])));
  };
  if (form) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const name = $("letter-name").value.trim();
      const language = $("letter-language").value;
      const body = Object.fromEntries(LETTER_FIELDS.map((field) => [field, $(`letter-${field}`).value]));
      body.paragraphs = $("letter-paragraphs").value.split(/\n\s*\n/);
      try {
        await api("PUT", `/api/letter-templates/${encodeURIComponent(name)}/${encodeURIComponent(language)}`, body);
        await draw();
        say(`${name} (${language}) saved; the next letter uses it.`, "info");
      } catch (error) {
        say(error.message);
      }
    });
  }
  await draw();
}

// The standard-paragraph library the letters name as {{paragraph:NAME}}; admins edit and retire entries.
async function paragraphsSection() {
  const form = $("paragraph-form");
  const draw = async () => {
    const { paragraphs = [] } = await api("GET", "/api/standard-paragraphs");
    const body = $("standard-paragraphs");
    body.replaceChildren();
    for (const p of paragraphs) {
      const tr = row([p.name, p.language, p.text, `${when(p.updated_at)} ${p.updated_by || ""}`,
        p.retired ? "retired" : "in use", ""]);
      tr.dataset.name = p.name;
      tr.dataset.language = p.language;
      if (form && !p.retired) {
        tr.lastChild.appendChild(letterButton("Edit", () => {
          $("paragraph-name").value = p.name;
          $("paragraph-language").value = p.language;
          $("paragraph-text").value = p.text;
          $("paragraph-text").focus();
        }));
        tr.lastChild.appendChild(letterButton("Retire", async () => {
          try {
            await api("DELETE", `/api/standard-paragraphs/${encodeURIComponent(p.name)}`);
            await draw();
            say(`${p.name} retired: no letter saved from now on can name it.`, "info");
          } catch (error) {
            say(error.message);
          }
        }));
      }
      body.appendChild(tr);
    }
  };
  if (form) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const name = $("paragraph-name").value.trim();
      const language = $("paragraph-language").value;
      try {
        await api("PUT", `/api/standard-paragraphs/${encodeURIComponent(name)}/${encodeURIComponent(language)}`,
          { text: $("paragraph-text").value });
        await draw();
        say(`${name} (${language}) saved; every letter printed from now on that names it uses it.`, "info");
      } catch (error) {
        say(error.message);
      }
    });
  }
  await draw();
}

PAGES.letters = async () => {
  await lettersPage();
  await paragraphsSection();
};
