"""A channels process delivering to its development mail sink (a Maildir), for tests whose mail must be
read back as a person's mailbox would hold it."""

from __future__ import annotations

import email
import email.policy
import mailbox
from contextlib import contextmanager
from pathlib import Path

import grpc

from services.runtime import tls
from tests.support.processes import ServiceProcess, free_port


@contextmanager
def channels_with_sink(env: dict, sink: Path):
    """Channels on free ports, its relay the sink in `sink`; yields its gRPC address."""
    port = free_port()
    own = dict(
        env,
        CRS_CHANNELS_GRPC=f"127.0.0.1:{port}",
        CRS_CONTACTS_GRPC=f"127.0.0.1:{free_port()}",
        CRS_CHANNELS_SMTP_BIND=f"127.0.0.1:{free_port()}",
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
    process = ServiceProcess("services.channels", own).start(wait_port=port)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        process.stop()


def secure_as(name: str, target: str) -> grpc.aio.Channel:
    """A channel presenting `name`'s own certificate, as that service's process does."""
    own = tls.load(name)
    return grpc.aio.secure_channel(target, grpc.ssl_channel_credentials(own.ca, own.key, own.certificate))


def sink_mail(sink: Path) -> list[email.message.EmailMessage]:
    box = mailbox.Maildir(sink, create=False)
    return [email.message_from_bytes(m.as_bytes(), policy=email.policy.default) for m in box]
