"""Letter templates as data an admin edits, through the real fulfillment API and PostgreSQL: a saved French
paragraph is in the preview's PDF, an agent may not edit, a placeholder the renderer does not fill is
refused, each change is kept with who made it, and a retired template is offered for no new letter."""

from __future__ import annotations

import io
import json

import grpc
import pytest
from crs.fulfillment.v1 import fulfillment_pb2 as pb
from pypdf import PdfReader

from tests.integration.fulfillment.conftest import AGENT, OPERATOR, SUPERVISOR

GOODWILL_FR = pb.LetterTemplate(
    name="goodwill",
    language="fr",
    subject="Un geste commercial",
    greeting="Chère Madame, cher Monsieur {name},",
    paragraphs=["Nous vous adressons ce courrier en signe de bonne volonté.", "Merci de votre fidélité."],
    closing="Le service consommateurs",
)


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_an_admin_saves_a_french_letter_and_its_preview_prints_it_to_a_french_address(stack):
    with pytest.raises(grpc.RpcError) as agent_tries:
        stack.call("SaveLetterTemplate", GOODWILL_FR, AGENT)
    assert agent_tries.value.code() == grpc.StatusCode.PERMISSION_DENIED
    bad = pb.LetterTemplate()
    bad.CopyFrom(GOODWILL_FR)
    bad.paragraphs[0] = "Votre dossier {case_ref} est clos."
    with pytest.raises(grpc.RpcError) as refused:
        stack.call("SaveLetterTemplate", bad, OPERATOR)
    assert (
        refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "{case_ref}" in refused.value.details()
    )

    assert "goodwill" not in stack.call("ListOfferedLetters", pb.ListOfferedLettersRequest(), AGENT).names
    saved = stack.call("SaveLetterTemplate", GOODWILL_FR, OPERATOR)
    assert "goodwill" in saved.offered
    # The case page's letter choice offers it at once.
    assert "goodwill" in stack.call("ListOfferedLetters", pb.ListOfferedLettersRequest(), AGENT).names
    change = saved.changes[0]
    assert (change.name, change.language, change.changed_by, change.before_json) == (
        "goodwill",
        "fr",
        "ops",
        "",
    )
    assert json.loads(change.after_json)["paragraphs"][0] == GOODWILL_FR.paragraphs[0]
    [(rows,)] = stack.sql("SELECT count(*) FROM fulfillment.letter_template_change WHERE name = 'goodwill'")
    assert rows == 1

    proof = stack.call("PreviewLetterTemplate", pb.PreviewLetterTemplateRequest(name="goodwill", language="fr"),
                       SUPERVISOR)  # fmt: skip
    text = pdf_text(proof.pdf)
    assert "signe de bonne volonté" in text and "Chère Madame, cher Monsieur Camille Exemple" in text
    assert "75002 PARIS" in text


def test_a_retired_template_is_kept_but_no_longer_offered(stack, directory):
    thanks = pb.LetterTemplate(name="thanks-retire", language="en", subject="Thank you", greeting="Dear {name},",
                               paragraphs=["Thank you for writing."], closing="Consumer Care")  # fmt: skip
    stack.call("SaveLetterTemplate", thanks, OPERATOR)
    case = directory.add_case(phones=["+15550100091"])
    proof = pb.PreviewLetterRequest(case_id=case, template="thanks-retire")
    assert "Thank you for writing." in pdf_text(stack.call("PreviewLetter", proof).pdf)
    with pytest.raises(grpc.RpcError) as supervisor_tries:
        stack.call("RetireLetterTemplate", pb.RetireLetterTemplateRequest(name="thanks-retire"), SUPERVISOR)
    assert supervisor_tries.value.code() == grpc.StatusCode.PERMISSION_DENIED
    retired = stack.call(
        "RetireLetterTemplate", pb.RetireLetterTemplateRequest(name="thanks-retire"), OPERATOR
    )
    assert "thanks-retire" not in retired.offered
    assert (
        "thanks-retire" not in stack.call("ListOfferedLetters", pb.ListOfferedLettersRequest(), AGENT).names
    )
    assert [t.retired for t in retired.templates if t.name == "thanks-retire"] == [True]
    assert (retired.changes[0].name, retired.changes[0].after_json) == ("thanks-retire", "")
    with pytest.raises(grpc.RpcError) as no_proof:
        stack.call("PreviewLetter", proof)
    assert no_proof.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as again:
        stack.call("SaveLetterTemplate", thanks, OPERATOR)
    assert again.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "retired" in again.value.details()
