"""Standard paragraphs through the real fulfillment API and PostgreSQL: a template names a library paragraph,
the preview prints its text in the letter's language, editing it in the library changes the next preview,
a template naming an unknown paragraph is refused, a case's letter preview and the worker's printed letter
compose it too, and a paragraph still named cannot be retired."""

from __future__ import annotations

import grpc
import pytest
from crs.fulfillment.v1 import fulfillment_pb2 as pb

from tests.integration.fulfillment.conftest import AGENT, OPERATOR, SUPERVISOR
from tests.integration.fulfillment.test_letter_templates import pdf_text
from tests.integration.fulfillment.test_letters import letter_text

GLASS_FR = pb.StandardParagraph(name="apology_glass", language="fr",
                                text="Nous regrettons vivement la présence de verre dans le produit.")  # fmt: skip
GLASS_LETTER = pb.LetterTemplate(
    name="glass",
    language="fr",
    subject="Au sujet du verre trouvé",
    greeting="Madame, Monsieur {name},",
    paragraphs=["Merci de votre lettre.", "{{paragraph:apology_glass}}"],
    closing="Le service consommateurs",
)
PREVIEW = pb.PreviewLetterTemplateRequest(name="glass", language="fr")


def test_a_paragraph_edited_in_the_library_is_in_the_next_preview(stack):
    with pytest.raises(grpc.RpcError) as unknown:
        stack.call("SaveLetterTemplate", GLASS_LETTER, OPERATOR)
    assert unknown.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "'apology_glass'" in unknown.value.details() and "paragraph 2" in unknown.value.details()
    with pytest.raises(grpc.RpcError) as agent_tries:
        stack.call("SaveStandardParagraph", GLASS_FR, AGENT)
    assert agent_tries.value.code() == grpc.StatusCode.PERMISSION_DENIED

    library = stack.call("SaveStandardParagraph", GLASS_FR, OPERATOR)
    [saved] = [p for p in library.paragraphs if p.name == "apology_glass"]
    assert (saved.language, saved.text, saved.updated_by) == ("fr", GLASS_FR.text, "ops")
    stack.call("SaveLetterTemplate", GLASS_LETTER, OPERATOR)
    assert "présence de verre" in pdf_text(stack.call("PreviewLetterTemplate", PREVIEW, SUPERVISOR).pdf)

    edited = pb.StandardParagraph(name="apology_glass", language="fr",
                                  text="Un éclat de verre ne devrait jamais se trouver dans nos produits.")  # fmt: skip
    stack.call("SaveStandardParagraph", edited, OPERATOR)
    text = pdf_text(stack.call("PreviewLetterTemplate", PREVIEW, SUPERVISOR).pdf)
    assert "Un éclat de verre" in text and "présence de verre" not in text and "Merci de votre lettre" in text
    listed = stack.call("ListStandardParagraphs", pb.ListStandardParagraphsRequest(), SUPERVISOR)
    assert [p.text for p in listed.paragraphs if p.name == "apology_glass"] == [edited.text]


def test_a_paragraph_a_template_names_is_not_retired_until_the_template_is(stack, directory):
    crack = pb.StandardParagraph(
        name="apology_crack", language="en", text="We are sorry the jar was cracked."
    )
    stack.call("SaveStandardParagraph", crack, OPERATOR)
    letter = pb.LetterTemplate(name="cracked", language="en", subject="Your jar", greeting="Dear {name},",
                               paragraphs=["{{paragraph:apology_crack}}"], closing="Consumer Care")  # fmt: skip
    stack.call("SaveLetterTemplate", letter, OPERATOR)
    # The letter a case would print is composed from the library too.
    case = directory.add_case(phones=["+15550100092"])
    proof = stack.call("PreviewLetter", pb.PreviewLetterRequest(case_id=case, template="cracked"))
    assert "We are sorry the jar was cracked." in pdf_text(proof.pdf)
    retire = pb.RetireStandardParagraphRequest(name="apology_crack")
    with pytest.raises(grpc.RpcError) as named:
        stack.call("RetireStandardParagraph", retire, OPERATOR)
    assert named.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "cracked (en)" in named.value.details()

    stack.call("RetireLetterTemplate", pb.RetireLetterTemplateRequest(name="cracked"), OPERATOR)
    retired = stack.call("RetireStandardParagraph", retire, OPERATOR)
    assert [p.retired for p in retired.paragraphs if p.name == "apology_crack"] == [True]
    again = pb.LetterTemplate()
    again.CopyFrom(letter)
    again.name = "cracked-again"
    with pytest.raises(grpc.RpcError) as refused:
        stack.call("SaveLetterTemplate", again, OPERATOR)
    assert (
        refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        and "apology_crack" in refused.value.details()
    )


def test_the_printed_letter_takes_the_librarys_text_in_the_consumers_language(stack, directory):
    for language, text in (("en", "We are sorry about the stone in the pack."),
                           ("fr", "Nous regrettons le caillou trouvé dans le paquet.")):  # fmt: skip
        stack.call("SaveStandardParagraph", pb.StandardParagraph(name="apology_stone", language=language,
                                                                  text=text), OPERATOR)  # fmt: skip
    for language, subject in (("en", "The stone"), ("fr", "Le caillou")):
        stack.call("SaveLetterTemplate", pb.LetterTemplate(name="stone", language=language, subject=subject,
                   greeting="{name},", paragraphs=["{{paragraph:apology_stone}}"], closing="CRS"), OPERATOR)  # fmt: skip
    case = directory.add_case(phones=["+33142000093"], address=("3 rue Monge", "75005"), country="FR",
                              city="Paris", name="Irène Joliot", language="fr-FR")  # fmt: skip
    letter = stack.wait_state(stack.request(case, "letter", template="stone").id, "shipped")
    text = letter_text(stack, letter.id)
    assert "Nous regrettons le caillou" in text and "stone in the pack" not in text
