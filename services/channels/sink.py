"""The development mail sink: a real SMTP server on loopback that files what it receives in a Maildir.

`crs run` (make run) has no mail relay; channels then sends its replies here (CRS_SMTP_URL unset), and
whoever tries the demo reads them in var/mail-sink/ with any Maildir reader, or `ls var/mail-sink/new`.
"""

from __future__ import annotations

import asyncio
import logging
import mailbox
import pathlib

from aiosmtpd.smtp import SMTP

from services.runtime.settings import split_hostport

log = logging.getLogger(__name__)


class MaildirHandler:
    def __init__(self, directory: pathlib.Path):
        for sub in ("tmp", "new", "cur"):
            (directory / sub).mkdir(parents=True, exist_ok=True)
        self.maildir = mailbox.Maildir(directory, create=False)

    async def handle_DATA(self, server, session, envelope) -> str:
        await asyncio.to_thread(self.maildir.add, envelope.original_content or envelope.content)
        return "250 2.0.0 Filed in the development sink"


async def serve_sink(bind: str, directory: pathlib.Path) -> asyncio.Server:
    host, port = split_hostport(bind)
    if host not in ("127.0.0.1", "::1", "localhost"):
        raise SystemExit(f"the development mail sink listens on loopback only, not {bind}")
    handler = MaildirHandler(directory)
    server = await asyncio.get_running_loop().create_server(lambda: SMTP(handler), host=host, port=port)
    log.info("development mail sink on %s, filing into %s", server.sockets[0].getsockname(), directory)
    return server
