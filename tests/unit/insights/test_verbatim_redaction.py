"""What insights keeps of a verbatim: the reporter's details and anything that could reach a person go, each
with its kind's marker; what quality assurance reads a verbatim for (lot codes, dates, the product) stays."""

from services.insights.domain.redaction import Reporter, redact, reporter_of


def test_the_reporters_name_email_and_phone_go_however_they_are_written():
    text = "Hi, Ada Quist here. Mrs Quist can be reached on (415) 555-0101 or ada.quist@example.org."
    kept = redact(text, Reporter(name="Ada Quist", email="ada.quist@example.org", phone="+14155550101"))
    assert kept == "Hi, [name] here. Mrs [name] can be reached on [phone] or [email]."


def test_a_name_the_consumer_introduces_or_signs_with_goes_without_a_record():
    assert (
        redact("My name is Marie Dupont and the oats had plastic")
        == "My name is [name] and the oats had plastic"
    )
    assert redact("Je m'appelle Marie Dupont.") == "Je m'appelle [name]."
    assert redact("The bag was torn.\nRegards,\nBob Smith") == "The bag was torn.\nRegards,\n[name]"


def test_a_street_address_goes_in_english_french_and_spanish_order():
    assert redact("Send it to 12 Baker Street, Springfield") == "Send it to [address], Springfield"
    assert redact("J'habite 3 rue de la Paix") == "J'habite [address]"
    assert redact("Vivo en calle Mayor 5") == "Vivo en [address]"


def test_a_card_or_account_number_goes_and_lot_codes_and_dates_stay():
    text = "Lot OAT-12, best before 2026-03-01 (also 01/03/2026). Refund card 4111 1111 1111 1111 please."
    assert redact(text) == (
        "Lot OAT-12, best before 2026-03-01 (also 01/03/2026). Refund card [number] please."
    )
    assert redact("Batch L2419A 14:32, bought 3 packs") == "Batch L2419A 14:32, bought 3 packs"


def test_words_that_merely_follow_i_am_are_not_taken_for_a_name():
    assert redact("I am Very upset about lot OAT-12") == "I am Very upset about lot OAT-12"


def test_the_reporter_is_read_from_the_case_as_casework_publishes_it():
    case = {"reporter": {"name": "Bo Lind", "email": "bo@example.com", "phone": "+46701234567"}}
    assert reporter_of(case) == Reporter("Bo Lind", "bo@example.com", "+46701234567")
    assert reporter_of({}) == Reporter()
