import json
import logging

from services.runtime import logs


def test_log_lines_are_json_with_the_correlation_id_and_no_whole_phone_number():
    formatter = logs.JsonFormatter("contacts")
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "call from %s ended", ("+1 614 555 0123",), None
    )
    with logs.correlated("call-42"):
        line = json.loads(formatter.format(record))
    assert line["correlation_id"] == "call-42"
    assert line["service"] == "contacts"
    assert "555" not in line["msg"] and line["msg"].endswith("*23 ended")


def test_short_numbers_and_ids_are_left_alone():
    assert logs.mask_digits("extension 1001, 3 retries") == "extension 1001, 3 retries"
    contact = "call filed as contact 703dbbaa-4567-4567-bfbc-03c8da7dfb00"
    assert logs.mask_digits(contact) == contact


def test_numbers_in_every_spelling_are_masked_to_their_last_two_digits_and_the_rest_is_kept():
    for text, masked in [
        ("caller +16145550123", "caller *********23"),
        ("caller (614) 555-0123", "caller (********23"),
        ("from: 0044 20 7946 0958.", "from: ************58."),
        ('number="06 12 34 56 78"', 'number="********78"'),
    ]:
        assert logs.mask_digits(text) == masked
