// Suggests articles as the consumer types their message, from GET /intake/suggest. The page works
// without this script: the "Find answers first" button posts the form and gets the same suggestions.
(function () {
  "use strict";
  var message = document.getElementById("message");
  var region = document.getElementById("suggestions");
  var template = document.getElementById("suggestion-template");
  var answerField = document.getElementById("answer_id");
  if (!message || !region || !template) return;
  var PAUSE_MS = 600;
  var MIN_LENGTH = 12;
  var timer = null;
  var asked = "";
  var latest = 0;

  function note(text) {
    var p = document.createElement("p");
    p.textContent = text;
    return p;
  }

  function show(found) {
    region.replaceChildren();
    answerField.value = found.articles.length ? String(found.answer_id) : "";
    if (found.safety) {
      region.append(note("Please send us the form: a person will look at this."));
      return;
    }
    if (!found.articles.length) return;
    var heading = document.createElement("h2");
    heading.textContent = "These may answer your question";
    region.append(heading);
    found.articles.forEach(function (article) {
      var item = template.content.firstElementChild.cloneNode(true);
      item.querySelector(".title").textContent = article.title;
      item.querySelector(".body").textContent = article.body;
      item.querySelector("[name=answer_id]").value = String(found.answer_id);
      item.querySelector("[name=article_id]").value = article.id;
      region.append(item);
    });
    region.append(note("Not answered? Send the form above and a person will reply."));
  }

  function ask() {
    var question = message.value.trim();
    if (question.length < MIN_LENGTH || question === asked) return;
    asked = question;
    var mine = ++latest;
    // No language: knowledge reads it from the question (the page's own may not be the consumer's).
    var query = new URLSearchParams({ question: question });
    fetch("/intake/suggest?" + query.toString(), { headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (found) { if (found && mine === latest) show(found); })
      .catch(function () { /* no suggestions: the form is sent as ever */ });
  }

  message.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, PAUSE_MS);
  });
})();
