"""The weekly digest's page drawn as a PDF (WeasyPrint: the only file that imports it)."""

from __future__ import annotations

import logging

from services.insights.domain import digest

# WeasyPrint and fontTools log every font subset at INFO; the service's log is for its own events.
for noisy in ("weasyprint", "fontTools"):
    logging.getLogger(noisy).setLevel(logging.WARNING)


def render(found: digest.Digest, audience: str) -> bytes:
    from weasyprint import HTML  # imported on first use: it loads Pango, which the other paths never need

    return HTML(string=digest.html(found, audience)).write_pdf()
