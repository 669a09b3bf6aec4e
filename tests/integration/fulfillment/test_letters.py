"""Letters in the consumer's language with the destination country's address block, read back from the PDF."""

from __future__ import annotations

import io

from pypdf import PdfReader


def letter_text(stack, fulfillment_id: str) -> str:
    [(pdf,)] = stack.sql("SELECT pdf FROM fulfillment.letter WHERE fulfillment_id = %s", (fulfillment_id,))
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(bytes(pdf))).pages)


def in_order(text: str, *parts: str) -> bool:
    positions = [text.find(part) for part in parts]
    return -1 not in positions and positions == sorted(positions)


def test_a_letter_to_france_is_in_french_with_a_french_address_block_and_lists_its_coupon(stack, directory):
    case = directory.add_case(
        phones=["+33142000001"],
        address=("8 boulevard Haussmann", "75009"),
        country="FR",
        city="Paris",
        name="Marie Curie",
        language="fr-FR",
    )
    coupon = stack.wait_state(stack.request(case, "coupon", value=300, currency="EUR").id, "delivered")
    letter = stack.wait_state(stack.request(case, "letter", template="apology").id, "shipped")
    text = letter_text(stack, letter.id)
    assert "Toutes nos excuses" in text and "Madame, Monsieur Marie Curie" in text
    assert "Our apologies" not in text
    # La Poste: name, street, then postcode before the city in capitals, then the country.
    assert in_order(text, "Marie Curie", "8 boulevard Haussmann", "75009 PARIS", "FRANCE")
    assert coupon.coupon_code in text and "Pièces jointes" in text


def test_a_letter_to_japan_is_in_japanese_with_the_postcode_first(stack, directory):
    case = directory.add_case(
        phones=["+81312345678"],
        address=("千代田1-1", "100-0001"),
        country="JP",
        city="千代田区",
        area="東京都",
        name="山田太郎",
        language="ja",
    )
    letter = stack.wait_state(stack.request(case, "letter", template="apology").id, "shipped")
    text = letter_text(stack, letter.id)
    assert "お詫び" in text and "山田太郎 様" in text
    # Japan Post: the postcode mark and code first, then prefecture, then the street, the name last.
    assert in_order(text, "〒100-0001", "東京都", "千代田1-1", "山田太郎")


def test_a_language_without_its_own_template_gets_the_english_one(stack, directory):
    case = directory.add_case(
        phones=["+4930123456"],
        address=("Unter den Linden 1", "10117"),
        country="DE",
        city="Berlin",
        language="de",
    )
    letter = stack.wait_state(stack.request(case, "letter", template="apology").id, "shipped")
    assert "Our apologies" in letter_text(stack, letter.id)


def test_a_letter_with_an_unknown_or_retired_template_is_refused_when_asked(stack, directory):
    import grpc
    import pytest
    from crs.fulfillment.v1 import fulfillment_pb2

    from tests.integration.fulfillment.conftest import OPERATOR

    case = directory.add_case(phones=["+15550700001"])
    with pytest.raises(grpc.RpcError) as unknown:
        stack.request(case, "letter", template="no-such-letter")
    assert unknown.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "no letter template 'no-such-letter'" in unknown.value.details()
    farewell = fulfillment_pb2.LetterTemplate(name="farewell", language="en", subject="Goodbye",
                                              greeting="Dear {name},", paragraphs=["Farewell."], closing="Care")  # fmt: skip
    stack.call("SaveLetterTemplate", farewell, OPERATOR)
    stack.call("RetireLetterTemplate", fulfillment_pb2.RetireLetterTemplateRequest(name="farewell"), OPERATOR)
    with pytest.raises(grpc.RpcError) as retired:
        stack.request(case, "letter", template="farewell")
    assert retired.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "farewell" in retired.value.details()
    [(written,)] = stack.sql("SELECT count(*) FROM fulfillment.fulfillment WHERE case_id = %s", (case,))
    assert written == 0


def test_the_printed_pdf_is_served_by_the_api_and_saved_by_the_cli(stack, directory, tmp_path):
    import subprocess
    import sys

    import grpc
    import pytest
    from crs.fulfillment.v1 import fulfillment_pb2

    case = directory.add_case(
        phones=["+15550700002"], address=("1 Main St", "10001"), city="New York", area="NY"
    )
    letter = stack.wait_state(stack.request(case, "letter", template="apology").id, "shipped")
    served = stack.call("GetLetter", fulfillment_pb2.GetLetterRequest(fulfillment_id=letter.id))
    assert served.pdf.startswith(b"%PDF") and served.language == "en"
    out = tmp_path / "letter.pdf"
    saved = subprocess.run(
        [sys.executable, "-m", "services.cli.main", "fulfilment", "letter", letter.id, "--out", str(out)],
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert saved.returncode == 0, saved.stderr
    assert out.read_bytes() == served.pdf
    coupon = stack.request(directory.add_case(phones=["+15550700003"]), "coupon", value=100)
    with pytest.raises(grpc.RpcError) as none:
        stack.call("GetLetter", fulfillment_pb2.GetLetterRequest(fulfillment_id=coupon.id))
    assert none.value.code() == grpc.StatusCode.NOT_FOUND
