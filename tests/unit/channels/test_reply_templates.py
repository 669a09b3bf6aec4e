"""Which templates a reply in a language is offered, and what a template may hold."""

from __future__ import annotations

import pytest

from services.channels.reply_templates import InvalidTemplate, Template, checked, offered

KEPT = [
    Template(1, "Lot code", "en", "Send the lot code."),
    Template(2, "Lot code", "fr", "Envoyez le numéro de lot."),
    Template(3, "Apology", "en", "We are sorry."),
    Template(4, "Bonjour seulement", "fr", "Bonjour."),
]


def test_each_name_is_offered_once_in_the_language_else_in_english():
    assert [(t.name, t.language) for t in offered(KEPT, "fr")] == [
        ("Apology", "en"),
        ("Bonjour seulement", "fr"),
        ("Lot code", "fr"),
    ]
    assert [(t.name, t.language) for t in offered(KEPT, "de")] == [("Apology", "en"), ("Lot code", "en")]
    assert [t.id for t in offered(KEPT, "")] == [3, 1]
    # The order the store gives does not change the choice.
    assert [t.id for t in offered(list(reversed(KEPT)), "FR")] == [3, 4, 2]


def test_a_template_is_kept_trimmed_with_its_language_in_lower_case():
    assert checked(Template(0, "  Lot code ", " FR", " Texte.\n")) == Template(0, "Lot code", "fr", "Texte.")


@pytest.mark.parametrize(
    ("template", "field"),
    [
        (Template(0, " ", "en", "x"), "name"),
        (Template(0, "n" * 101, "en", "x"), "name"),
        (Template(0, "n", "english", "x"), "language"),
        (Template(0, "n", "e1", "x"), "language"),
        (Template(0, "n", "en", "  "), "body"),
        (Template(0, "n", "en", "x" * 20001), "body"),
    ],
)
def test_a_template_without_a_name_language_or_text_is_refused(template, field):
    with pytest.raises(InvalidTemplate, match=f"^{field}:"):
        checked(template)
