import json
import logging
import sys

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


def format_line(msg, args=(), *, exc_info=None, fields=None, cid=None):
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, msg, args, exc_info)
    if fields:
        record.fields = fields
    with logs.correlated(cid):
        return json.loads(logs.JsonFormatter("contacts").format(record))


def test_emails_and_personal_fields_are_taken_out():
    line = format_line(
        "reply to %s failed",
        ("maria.lopez@example.org",),
        fields={"email": "maria.lopez@example.org", "verbatim": "my son cut his hand", "case": "C-12"},
    )
    text = json.dumps(line)
    assert "maria.lopez" not in text and "cut his hand" not in text
    assert line["msg"] == "reply to [email] failed"
    assert line["case"] == "C-12"


def test_an_argument_marked_personal_is_not_written():
    line = format_line("created consumer %s", (logs.personal("Maria Lopez"),))
    assert "Maria" not in json.dumps(line)


def test_tracebacks_keep_their_frames_but_not_the_values_the_error_quotes_back():
    name, email, phone, verbatim = "Maria Lopez", "maria.lopez@example.org", "+33 6 12 34 56 78", "lid cut"
    try:
        try:
            raise ValueError(f"not a phone number: {name + ', ' + phone!r}")
        except ValueError as inner:
            raise RuntimeError(
                'duplicate key value violates unique constraint "consumer_email_key"\n'
                f"DETAIL:  Key (email)=({email}) already exists.\n"
                f"DETAIL:  Failing row contains (7, {name}, the {verbatim} my finger)."
            ) from inner
    except RuntimeError:
        line = format_line("store failed", exc_info=sys.exc_info())
    text = line["exc"]
    for personal_data in ("Maria", "maria.lopez", "12 34 56", "lid cut"):
        assert personal_data not in text
    assert "test_tracebacks_keep_their_frames" in text and "ValueError" in text and "RuntimeError" in text
    assert "Key (email)=([redacted]) already exists" in text


def test_an_exception_passed_as_an_argument_loses_its_quoted_values():
    line = format_line("could not file: %s", (KeyError("Maria Lopez"),))
    assert "Maria" not in line["msg"] and "KeyError" in line["msg"]


def test_a_call_id_carrying_a_number_becomes_the_same_digest_in_every_line():
    first = format_line("ringing", cid="+33612345678-8812@198.51.100.7")
    second = format_line("answered", cid="+33612345678-8812@198.51.100.7")
    assert "612345678" not in json.dumps(first) and "198.51" not in json.dumps(first)
    assert first["correlation_id"] == second["correlation_id"]
    assert format_line("x", cid="703dbbaa-4567-4567-bfbc-03c8da7dfb00")["correlation_id"] == (
        "703dbbaa-4567-4567-bfbc-03c8da7dfb00"
    )


def test_a_message_body_a_broker_client_prints_is_withheld():
    class Returned:
        def __repr__(self):
            return (
                'DeliveredMessage(delivery=<Basic.Return>, body=b\'{"name":"Ysolde O\\\'Quist"}\', channel=1)'
            )

    record = logging.LogRecord(
        "aiormq.channel", logging.ERROR, __file__, 1, "Unhandled message %r returning", (Returned(),), None
    )
    line = json.loads(logs.JsonFormatter("screenpop").format(record))
    assert (
        line["msg"]
        == "Unhandled message DeliveredMessage(delivery=<Basic.Return>, body=[withheld], channel=1) returning"
    )
