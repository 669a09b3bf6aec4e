"""Standard paragraphs as letter templates name them: an entry `{{paragraph:NAME}}` is replaced by the
library's text in the letter's language (English when it has none there), a template's own paragraphs are
kept as written, an unknown name is refused naming the paragraph, and a paragraph a template still names
is not retired."""

from __future__ import annotations

import pytest

from services.fulfillment import letter_templates
from services.fulfillment import standard_paragraphs as rules
from services.fulfillment.replies import InvalidRequest

LIBRARY = {
    "apology_foreign_object": {
        "en": "We are sorry about the object.",
        "fr": "Nous sommes désolés de l'objet.",
    },
    "quality_review": {"en": "Our quality team will look into it."},
}
TEMPLATE = (
    "Merci de votre lettre.",
    "{{paragraph:apology_foreign_object}}",
    "{{ paragraph:quality_review }}",
)


def test_named_paragraphs_are_composed_in_the_letters_language_falling_back_to_english():
    assert rules.compose(TEMPLATE, "fr", LIBRARY) == (
        "Merci de votre lettre.",
        "Nous sommes désolés de l'objet.",
        "Our quality team will look into it.",
    )
    assert rules.names_in((*TEMPLATE, "{{paragraph:quality_review}}")) == [
        "apology_foreign_object",
        "quality_review",
    ]


def test_a_template_naming_a_paragraph_the_library_lacks_is_refused_naming_it():
    with pytest.raises(InvalidRequest, match=r"paragraph 2: .*'apology_glass'"):
        rules.check_known(("Hello.", "{{paragraph:apology_glass}}"), "en", LIBRARY)
    with pytest.raises(InvalidRequest, match="apology_glass"):
        rules.compose(("{{paragraph:apology_glass}}",), "en", LIBRARY)
    rules.check_known(TEMPLATE, "ja", LIBRARY)  # English stands in for a language the library lacks


def test_a_template_keeps_a_reference_in_one_spelling_and_still_refuses_other_braces():
    saved = letter_templates.validate(
        letter_templates.LetterTemplate("apology", "fr", "Excuses", "Madame {name},", TEMPLATE, "Le service")
    )
    assert saved.paragraphs[1:] == ("{{paragraph:apology_foreign_object}}", "{{paragraph:quality_review}}")
    with pytest.raises(InvalidRequest, match="paragraph 1"):
        letter_templates.validate(
            letter_templates.LetterTemplate("a", "fr", "S", "G", ("Voir {{paragraph:x}} ici.",), "C")
        )


def test_a_paragraph_still_named_by_a_template_is_not_retired():
    with pytest.raises(InvalidRequest, match=r"apology \(en\), apology \(fr\)"):
        rules.check_retirable("quality_review", [("apology", "fr"), ("apology", "en")])
    rules.check_retirable("quality_review", [])


@pytest.mark.parametrize(
    ("paragraph", "named"),
    [
        (rules.StandardParagraph("Bad Name", "en", "Text"), "name"),
        (rules.StandardParagraph("ok", "de", "Text"), "language"),
        (rules.StandardParagraph("ok", "en", "  "), "text"),
        (rules.StandardParagraph("ok", "en", "Dear {name}"), "text"),
    ],
)
def test_a_library_paragraph_with_a_bad_field_is_refused_naming_the_field(paragraph, named):
    with pytest.raises(InvalidRequest, match=f"^{named}:"):
        rules.validate(paragraph)
