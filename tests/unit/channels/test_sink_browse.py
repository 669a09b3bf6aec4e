"""Reading the development sink's Maildir back: newest first, threading headers and text."""

from __future__ import annotations

import mailbox
import os
from email.message import EmailMessage

from services.channels import sink_browse


def test_the_sink_is_read_newest_first_with_its_threading_headers_and_text(tmp_path):
    box = mailbox.Maildir(tmp_path / "sink", create=True)
    for n in (1, 2):
        m = EmailMessage()
        m["From"], m["To"], m["Subject"] = (
            "care@crs.localhost",
            "jane@example.com",
            f"Re: Question {n} [Case {n}]",
        )
        m["Message-ID"], m["In-Reply-To"] = f"<reply-{n}@crs.localhost>", f"<jane-{n}@example.com>"
        m.set_content(f"Answer {n}.")
        key = box.add(m)
        path = tmp_path / "sink" / "new" / key
        os.utime(path, (1_700_000_000 + n, 1_700_000_000 + n))
    first, second = sink_browse.newest(tmp_path / "sink", 10)
    assert (first.subject, first.in_reply_to, first.body.strip()) == (
        "Re: Question 2 [Case 2]", "<jane-2@example.com>", "Answer 2."
    )  # fmt: skip
    assert second.message_id == "<reply-1@crs.localhost>" and not second.dkim_signed
    assert [m.subject for m in sink_browse.newest(tmp_path / "sink", 1)] == ["Re: Question 2 [Case 2]"]
    assert sink_browse.newest(tmp_path / "empty", 10) == []
