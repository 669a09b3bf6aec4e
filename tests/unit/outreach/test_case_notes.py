"""The note a survey answer puts on its case: contacts out of reach leaves the answer standing and says so in
the log, rather than failing the consumer's click."""

from __future__ import annotations

import logging

from services.outreach.case_notes import CaseNotes
from services.runtime import grpcio


async def test_contacts_out_of_reach_is_logged_and_the_answer_stands(caplog):
    channel = grpcio.channel("127.0.0.1:9")  # nothing listens there
    try:
        with caplog.at_level(logging.WARNING, logger="services.outreach.case_notes"):
            await CaseNotes(channel, deadline=2.0)("case-1", "CSAT survey answered: 4 of 1-5")
    finally:
        await channel.close()
    (record,) = caplog.records
    assert "survey answer not noted on case case-1" in record.getMessage()
    assert "UNAVAILABLE" in record.getMessage() or "DEADLINE_EXCEEDED" in record.getMessage()
