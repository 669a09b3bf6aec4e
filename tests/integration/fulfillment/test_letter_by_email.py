"""A letter by email, end to end: fulfillment's API takes the request, its worker prints the letter, its
mailer hands it to a real channels process (SendLetter, as fulfillment's own identity), and channels'
outbox sends it through SMTP to channels' development mail sink, with the PDF attached.

The stack runs on a database and a vhost of its own, so no other module's worker or mailer takes its
letters. Channels starts only once the first letter has been tried and refused for want of it: the
mailer's retry then sends it, once.
"""

from __future__ import annotations

import email
import email.policy
import mailbox
import subprocess

import grpc
import pytest
from crs.channels.v1 import channels_pb2, channels_pb2_grpc
from crs.fulfillment.v1 import fulfillment_pb2

from services.runtime import tls
from services.runtime.grpcio import blocking_channel
from services.runtime.principal import Principal
from tests.integration.fulfillment.conftest import running_stack
from tests.support import infra
from tests.support.processes import ServiceProcess, free_port
from tests.support.wait import wait_for

FULFILLMENT = Principal("fulfillment", "service")


@pytest.fixture(scope="module")
def mail_stack(service_env, directory, tmp_path_factory):
    sink = tmp_path_factory.mktemp("letter-sink")
    channels_port = free_port()
    with infra.migrated_database("crs_letter_email") as database_url, infra.own_vhost("crs-letter") as amqp:
        env = dict(service_env, CRS_AMQP_URL=amqp, CRS_CHANNELS_GRPC=f"127.0.0.1:{channels_port}")
        with running_stack(
            env,
            database_url,
            directory,
            CRS_FULFILLMENT_LETTER_MAIL_SECONDS="0.2",
            CRS_FULFILLMENT_LETTER_RETRY_SECONDS="0.5",
            CRS_FULFILLMENT_CHANNELS_DEADLINE="5",
        ) as stack:
            channels_env = dict(
                stack.env,
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
            channels = ServiceProcess("services.channels", channels_env)

            def start_channels():
                if channels.process is None:
                    channels.start(wait_port=channels_port)

            stack.start_channels = start_channels
            stack.sink = sink
            stack.channels_target = env["CRS_CHANNELS_GRPC"]
            try:
                yield stack
            finally:
                if channels.process is not None:
                    assert channels.stop() == 0, channels.output()


def sink_mail(stack) -> list[email.message.EmailMessage]:
    box = mailbox.Maildir(stack.sink, create=False)
    return [email.message_from_bytes(m.as_bytes(), policy=email.policy.default) for m in box]


def as_fulfillment(target: str) -> channels_pb2_grpc.ChannelsStub:
    """A channel presenting fulfillment's own certificate, as its mailer does."""
    own = tls.load("fulfillment")
    credentials = grpc.ssl_channel_credentials(own.ca, own.key, own.certificate)
    return channels_pb2_grpc.ChannelsStub(grpc.secure_channel(target, credentials))


def test_a_letter_by_email_arrives_once_with_the_pdf_after_channels_comes_back(mail_stack, directory):
    case_id = directory.add_case(
        name="Amélie Durand", language="fr-FR", address=("12 rue des Lilas", "75011"), country="FR",
        city="Paris", emails=("amelie@example.test",),
    )  # fmt: skip
    fid = mail_stack.request(case_id, "letter", template="apology", delivery="email").id
    # Channels is not running: the printed letter waits, and the mailer has tried at least once.
    wait_for(
        lambda: mail_stack.sql(
            "SELECT stage, attempts > 0 FROM fulfillment.fulfillment WHERE id = %s", (fid,)
        ) == [("printed", True)],
        timeout=30,
        what="a refused first try",
    )  # fmt: skip
    assert mail_stack.get(fid).state == "in_progress"
    mail_stack.start_channels()
    done = mail_stack.wait_state(fid, "delivered", "failed", timeout=30)
    assert done.state == "delivered", done.reason
    assert done.delivery == "email"
    assert "letter emailed to amelie@example.test" in done.history[-1].note

    received = wait_for(lambda: sink_mail(mail_stack), timeout=30, what="the letter in the sink")
    assert len(received) == 1
    letter = received[0]
    assert letter["To"] == "amelie@example.test"
    assert letter["Subject"] == f"Notre courrier [Case {directory.cases[case_id].reference}]"
    assert letter["Message-ID"] in done.history[-1].note
    assert "Bonjour Amélie Durand" in letter.get_body(("plain",)).get_content()
    (pdf,) = list(letter.iter_attachments())
    assert pdf.get_content_type() == "application/pdf"
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf.get_content(), capture_output=True, check=True
    ).stdout.decode()
    assert "Amélie Durand" in text

    # The same letter asked for again (a retry after a lost answer): the first message, nothing sent.
    stub = as_fulfillment(mail_stack.channels_target)
    printed = mail_stack.call("GetLetter", fulfillment_pb2.GetLetterRequest(fulfillment_id=fid))
    again = stub.SendLetter(
        channels_pb2.SendLetterRequest(
            fulfillment_id=fid,
            case_id=case_id,
            to_address="amelie@example.test",
            consumer_name="Amélie Durand",
            language="fr",
            pdf=printed.pdf,
            template="apology",
        ),
        metadata=FULFILLMENT.metadata(),
        timeout=10,
    )
    assert again.message_id == letter["Message-ID"]
    assert again.fulfillment_id == fid and again.delivery == "sent"
    assert [a.filename for a in again.attachments] == ["apology.pdf"]
    # The agent sees the letter among the case's messages.
    listed = stub.ListMessages(channels_pb2.ListMessagesRequest(case_id=case_id), timeout=10)
    assert [(m.direction, m.fulfillment_id) for m in listed.messages] == [("outbound", fid)]
    assert mail_stack.sql("SELECT count(*) FROM channels.message WHERE fulfillment_id = %s", (fid,)) == [(1,)]
    assert len(sink_mail(mail_stack)) == 1
    assert any(a.id == case_id and "Notre courrier" in a.note for a in directory.actions)


def test_only_fulfillment_may_send_a_letter(mail_stack, directory):
    mail_stack.start_channels()
    console = channels_pb2_grpc.ChannelsStub(blocking_channel(mail_stack.channels_target))
    with pytest.raises(grpc.RpcError) as refused:
        console.SendLetter(
            channels_pb2.SendLetterRequest(fulfillment_id="x"),
            metadata=Principal("ada", "agent").metadata(),
            timeout=10,
        )
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as forged:
        # The console's certificate does not vouch for fulfillment.
        console.SendLetter(
            channels_pb2.SendLetterRequest(fulfillment_id="x"), metadata=FULFILLMENT.metadata(), timeout=10
        )
    assert forged.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_a_letter_by_email_for_a_consumer_without_an_address_is_refused(mail_stack, directory):
    case_id = directory.add_case(name="Bob Post", address=("1 Main St", "10001"))
    with pytest.raises(grpc.RpcError) as refused:
        mail_stack.request(case_id, "letter", template="apology", delivery="email")
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "no email address" in refused.value.details()
    assert mail_stack.sql("SELECT count(*) FROM fulfillment.fulfillment WHERE case_id = %s", (case_id,)) == [
        (0,)
    ]
    # By post, the same consumer's letter is taken.
    assert mail_stack.request(case_id, "letter", template="apology").delivery == "post"
