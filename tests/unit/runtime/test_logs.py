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
