"""DKIM signatures on outgoing mail, when a key is configured (CRS_CHANNELS_DKIM_KEY, a PEM file)."""

from __future__ import annotations

import pathlib
from dataclasses import dataclass

import dkim

# The one-click unsubscribe headers are signed too (RFC 8058 section 4): a receiver honours them only then.
SIGNED_HEADERS = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"in-reply-to",
    b"references",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
)


@dataclass(frozen=True)
class Signer:
    domain: str
    selector: str
    key: bytes

    @classmethod
    def from_file(cls, path: str, *, domain: str, selector: str) -> Signer:
        file = pathlib.Path(path)
        if not file.is_file():
            raise SystemExit(f"CRS_CHANNELS_DKIM_KEY names {path}, which is not a file")
        return cls(domain, selector, file.read_bytes())

    def sign(self, mime: bytes) -> bytes:
        """`mime` with its DKIM-Signature header first."""
        header = dkim.sign(
            mime,
            self.selector.encode(),
            self.domain.encode(),
            self.key,
            include_headers=list(SIGNED_HEADERS),
            linesep=b"\r\n" if b"\r\n" in mime else b"\n",
        )
        return header + mime
