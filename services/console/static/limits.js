// The approval limits page: limits per role and agent, and the coupon fraud limits. Admins edit them;
// supervisors read them. Loaded after cases.js, whose helpers ($, api, say, when, row, PAGES) it uses;
// everything is drawn with textContent, never as HTML.
"use strict";

// -- approval limits per role and agent: admins edit, supervisors read --

const LIMIT_FIELDS = ["scope", "name", "currency", "max_value_minor", "max_period_minor", "period_days"];

async function limitsPage() {
  const editable = Boolean($("limit-form"));
  const draw = async () => {
    const { limits = [], changes = [] } = await api("GET", "/api/approval-limits");
    const body = $("limits");
    body.replaceChildren();
    for (const l of limits) {
      const tr = row([l.scope, l.name, l.currency, l.max_value_minor, l.max_period_minor, l.period_days, ""]);
      tr.dataset.name = l.name;
      if (editable) {
        const remove = document.createElement("button");
        remove.type = "button";
        remove.textContent = "Remove";
        remove.addEventListener("click", async () => {
          try {
            await api("DELETE", `/api/approval-limits?${new URLSearchParams(
              { scope: l.scope, name: l.name, currency: l.currency })}`);
            await draw();
            say(`Limit removed for ${l.name}.`, "info");
          } catch (error) {
            say(error.message);
          }
        });
        tr.lastChild.appendChild(remove);
      }
      body.appendChild(tr);
    }
    const log = $("limit-changes");
    log.replaceChildren();
    for (const c of changes) {
      log.appendChild(row([when(c.changed_at), c.changed_by, `${c.scope} ${c.name} ${c.currency}`,
        c.before_json || "none", c.after_json || "removed"]));
    }
  };
  if (editable) {
    $("limit-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = Object.fromEntries(LIMIT_FIELDS.map((name) => [name, $(`limit-${name}`).value]));
      try {
        await api("PUT", "/api/approval-limits", body);
        await draw();
        say(`Limit saved for ${body.name}; their next request follows it.`, "info");
      } catch (error) {
        say(error.message);
      }
    });
  }
  await draw();
  await couponPolicy();
}

const COUPON_FIELDS = ["max_per_consumer", "max_per_household", "period_days", "valid_days"];

async function couponPolicy() {
  const draw = async () => {
    const policy = await api("GET", "/api/coupon-policy");
    $("coupon-policy").textContent = `At most ${policy.max_per_consumer} coupons per consumer and `
      + `${policy.max_per_household} per household in ${policy.period_days} days; each good for ${policy.valid_days} days.`;
    for (const name of COUPON_FIELDS) {
      const input = $(`coupon-${name}`);
      if (input) input.value = policy[name];
    }
    $("coupon-changes").replaceChildren(...(policy.changes || []).map((c) =>
      row([when(c.changed_at), c.changed_by, c.before_json, c.after_json])));
  };
  const form = $("coupon-form");
  if (form) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = Object.fromEntries(COUPON_FIELDS.map((name) => [name, $(`coupon-${name}`).value]));
      try {
        await api("PUT", "/api/coupon-policy", body);
        await draw();
        say("Coupon limits saved; the next coupon follows them.", "info");
      } catch (error) {
        say(error.message);
      }
    });
  }
  await draw();
}

PAGES.limits = limitsPage;
