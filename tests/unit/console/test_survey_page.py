"""The public survey page's structure: a form that works with no script and names every control."""

from __future__ import annotations

from html.parser import HTMLParser

from services.console import survey_page
from services.console.web import TEMPLATES
from services.runtime import pages


class Outline(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def rendered(**kwargs) -> tuple[str, Outline]:
    env = pages.templates(TEMPLATES)
    html = env.get_template("public/survey.html").render(**survey_page.context(action="/s/tok", **kwargs))
    outline = Outline()
    outline.feed(html)
    return html, outline


def test_every_score_is_a_labelled_radio_in_a_fieldset_with_a_legend_and_no_script():
    html, outline = rendered(kind="nps", language="fr")
    tags = [t for t, _ in outline.tags]
    assert "script" not in tags
    assert ("html", {"lang": "fr"}) in outline.tags
    radios = [a for t, a in outline.tags if t == "input" and a.get("type") == "radio"]
    assert [r["value"] for r in radios] == [str(v) for v in range(11)]
    labelled = {a["for"] for t, a in outline.tags if t == "label"}
    assert all(r["id"] in labelled for r in radios)
    assert tags.count("fieldset") == tags.count("legend") == 1
    assert "recommandiez" in html
    form = next(a for t, a in outline.tags if t == "form")
    assert form["method"] == "post" and form["action"] == "/s/tok"
    assert "comment" in labelled


def test_errors_are_announced_and_tied_to_their_question():
    html, outline = rendered(
        kind="csat", language="en", errors={"score": "score: choose a number from 1 to 5"}
    )
    summary = next(a for t, a in outline.tags if a.get("id") == "error-summary")
    assert summary["role"] == "alert"
    fieldset = next(a for t, a in outline.tags if t == "fieldset")
    assert fieldset["aria-describedby"] == "q-score-error"
    assert "<title>There is a problem: How did we do?</title>" in html


def test_an_unknown_language_falls_back_to_english_and_a_poll_uses_its_questions():
    poll = [{"key": "speed", "text": {"en": "How fast?", "es": "¿Qué tan rápido?"}, "low": 1, "high": 3}]
    html, _ = rendered(kind="poll", language="es-MX", poll=poll)
    assert "¿Qué tan rápido?" in html
    html, _ = rendered(kind="csat", language="xx")
    assert "How satisfied are you" in html
