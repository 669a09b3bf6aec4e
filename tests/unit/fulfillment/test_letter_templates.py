"""Letter templates as an admin writes them: the renderer's one placeholder accepted where it is filled in,
any other brace, an unknown language, empty text and oversized text refused with the field named."""

from __future__ import annotations

import pytest

from services.fulfillment import letter_templates as rules
from services.fulfillment.replies import InvalidRequest


def template(**changes) -> rules.LetterTemplate:
    values = dict(
        name="apology",
        language="fr",
        subject="Toutes nos excuses",
        greeting="Madame, Monsieur {name},",
        paragraphs=("Nous sommes désolés.",),
        closing="Le service consommateurs",
    )
    return rules.LetterTemplate(**{**values, **changes})


def test_a_template_with_the_name_placeholder_in_its_greeting_is_accepted_trimmed():
    saved = rules.validate(template(name=" apology ", language="FR", paragraphs=("  Merci.  ", " ")))
    assert (saved.name, saved.language, saved.paragraphs) == ("apology", "fr", ("Merci.",))


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"language": "de"}, "language"),
        ({"subject": "  "}, "subject"),
        ({"paragraphs": ()}, "paragraphs"),
        ({"paragraphs": ("Cher {case_ref}",)}, "paragraph 1"),
        ({"paragraphs": ("Bonjour {name}",)}, "paragraph 1"),
        ({"greeting": "Dear {{ name }}"}, "greeting"),
        ({"greeting": "Dear {% for x in () %}"}, "greeting"),
        ({"closing": "x" * (rules.MAX_CLOSING + 1)}, "closing"),
        ({"paragraphs": ("a",) * (rules.MAX_PARAGRAPHS + 1)}, "paragraphs"),
        ({"name": "Apology Letter"}, "name"),
    ],
)
def test_a_bad_template_is_refused_naming_the_field(changes, named):
    with pytest.raises(InvalidRequest) as refused:
        rules.validate(template(**changes))
    assert str(refused.value).startswith(named)


def test_an_unknown_placeholder_is_named_in_the_refusal():
    with pytest.raises(InvalidRequest, match=r"\{case_ref\}"):
        rules.validate(template(greeting="Dear {name}, about {case_ref}"))


def test_retired_templates_are_not_offered_and_each_name_is_offered_once():
    templates = [template(), template(language="en"), template(name="thanks", retired=True)]
    assert rules.offered(templates) == ["apology"]


def test_the_audit_text_keeps_the_words_not_the_key():
    assert template().text() == {
        "subject": "Toutes nos excuses",
        "greeting": "Madame, Monsieur {name},",
        "paragraphs": ["Nous sommes désolés."],
        "closing": "Le service consommateurs",
    }
