"""A channels process delivering to its development mail sink (a Maildir), for tests whose mail must be
read back as a person's mailbox would hold it."""

from __future__ import annotations

import email
import email.policy
import mailbox
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc

from services.runtime import tls
from tests.support.processes import ServiceProcess, free_port


def channels_env(
    base: dict[str, str], sink: Path, port: int | None = None
) -> tuple[dict[str, str], int, int]:
    """The environment of a channels process on free ports that files what it sends in `sink` (the
    contacts it would note replies on is not there: notices are on no case); its gRPC and SMTP ports."""
    port, smtp = port or free_port(), free_port()
    env = dict(
        base,
        CRS_CHANNELS_GRPC=f"127.0.0.1:{port}",
        CRS_CONTACTS_GRPC=f"127.0.0.1:{free_port()}",
        CRS_CHANNELS_SMTP_BIND=f"127.0.0.1:{smtp}",
        CRS_CHANNELS_SINK_BIND=f"127.0.0.1:{free_port()}",
        CRS_CHANNELS_SINK_DIR=str(sink),
        CRS_CHANNELS_CHAT_BIND=f"127.0.0.1:{free_port()}",
        CRS_CHANNELS_CHAT_DEMO_BIND=f"127.0.0.1:{free_port()}",
        CRS_CHANNELS_WEB_FORM_BIND=f"127.0.0.1:{free_port()}",
        CRS_KNOWLEDGE_GRPC=f"127.0.0.1:{free_port()}",
        CRS_CHANNELS_EMAIL_ACK="0",
        CRS_CHANNELS_FROM="care@crs.test",
        CRS_CHANNELS_OUTBOX_INTERVAL="0.2",
    )
    return env, port, smtp


@contextmanager
def channels_with_sink(env: dict, sink: Path) -> Iterator[tuple[str, int]]:
    """A running channels process whose relay is the sink in `sink`: its gRPC target and SMTP ingress port."""
    own, port, smtp = channels_env(env, sink)
    process = ServiceProcess("services.channels", own).start(wait_port=port)
    try:
        yield f"127.0.0.1:{port}", smtp
    finally:
        process.stop()


def secure_as(name: str, target: str) -> grpc.aio.Channel:
    """A channel presenting `name`'s own certificate, as that service's process does."""
    own = tls.load(name)
    return grpc.aio.secure_channel(target, grpc.ssl_channel_credentials(own.ca, own.key, own.certificate))


def all_mail(sink: Path) -> list[email.message.EmailMessage]:
    box = mailbox.Maildir(sink, create=False)
    return [email.message_from_bytes(m.as_bytes(), policy=email.policy.default) for m in box]
