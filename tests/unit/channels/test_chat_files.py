"""Screening a file sent in a chat: what its bytes say decides its type; a lie, an empty or a large file is
refused with a reason its sender can read; its name is kept safe for a download header."""

from __future__ import annotations

import pytest

from services.channels.chat_files import MAX_CHAT_FILE_BYTES, screened
from services.channels.chat_shapes import Refused

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_the_type_is_what_the_bytes_say_not_the_name():
    assert screened("scan.pdf", PNG) == ("scan.pdf", "image/png")
    assert screened("reply", b"%PDF-1.7\n") == ("reply", "application/pdf")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"MZ\x90\x00" + b"\x00" * 60, "only pictures (JPEG, PNG, GIF) and PDF documents can be sent"),
        (b"", "the file is empty"),
        (PNG + b"\x00" * MAX_CHAT_FILE_BYTES, "a file may be at most 3 MiB"),
    ],
)
def test_a_hostile_file_is_refused_with_its_reason(content, reason):
    with pytest.raises(Refused, match=reason.replace("(", r"\(").replace(")", r"\)")):
        screened("cat.png", content)


def test_a_name_loses_what_would_break_a_header_or_a_path():
    assert screened('../a"b\r\n.png', PNG)[0] == ".._a_b__.png"
    assert screened(None, PNG)[0] == "file"
