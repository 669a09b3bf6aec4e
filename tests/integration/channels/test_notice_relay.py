"""The relay's batch form against a real SMTP server (aiosmtpd on loopback): many messages over one
connection, a recipient refused for good settles only its own message, and a server gone fails the rest
for a retry rather than losing them."""

from __future__ import annotations

import asyncio

from aiosmtpd.smtp import SMTP

from services.channels.outbound import PermanentFailure, Queued
from services.channels.smtp import SmtpRelay


class Refusing:
    def __init__(self):
        self.received: list[str] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("gone@"):
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received += envelope.rcpt_tos
        return "250 OK"


def item(n: int, to: str) -> Queued:
    mime = f"From: care@crs.test\r\nTo: {to}\r\nSubject: n{n}\r\n\r\nBody {n}\r\n".encode()
    return Queued(n, "", mime, "care@crs.test", to, 0)


async def test_a_batch_goes_over_one_connection_and_a_refusal_settles_only_its_message():
    handler = Refusing()
    connections = []

    def factory():
        connections.append(1)
        return SMTP(handler)

    server = await asyncio.get_running_loop().create_server(factory, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        relay = SmtpRelay(f"smtp://127.0.0.1:{port}", timeout=10)
        errors = await relay.send_batch(
            [item(1, "a@example.org"), item(2, "gone@example.org"), item(3, "b@example.org")]
        )
        assert errors[0] is None and errors[2] is None
        assert isinstance(errors[1], PermanentFailure) and "550" in str(errors[1])
        assert handler.received == ["a@example.org", "b@example.org"]
        assert len(connections) == 1
    finally:
        server.close()
        await server.wait_closed()

    # Nobody listens any more: every message of the batch gets the error, to be tried again later.
    errors = await SmtpRelay(f"smtp://127.0.0.1:{port}", timeout=2).send_batch(
        [item(4, "a@example.org"), item(5, "b@example.org")]
    )
    assert all(isinstance(e, OSError) for e in errors) and len(errors) == 2
