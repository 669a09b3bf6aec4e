"""Fulfillment's letters by email: the message that carries a printed letter to the consumer.

The email is written in the consumer's language (English when there is no text in theirs), carries the
letter as a PDF attachment, and threads on the case: an answer to the case's last email when there is
one, else a new conversation whose subject carries the case reference, so the consumer's answer comes
back to the case either way. Plain Python: no SQL, no gRPC.
"""

from __future__ import annotations

import email.policy
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from services.channels.outbound import Reply, Thread, reply_subject

MAX_PDF_BYTES = 3 * 1024 * 1024
AUTHOR = "fulfillment"
_ADDRESS = re.compile(r"^[^@\s<>\"]{1,64}@[^@\s<>\"]{1,255}$")
_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]+")

# (subject, greeting with a name, greeting without one, body, closing) per language.
TEXTS: dict[str, tuple[str, str, str, str, str]] = {
    "en": (
        "Our letter to you",
        "Dear {name},",
        "Hello,",
        "Please find our letter to you attached, as a PDF.",
        "Kind regards,\nConsumer Care",
    ),
    "fr": (
        "Notre courrier",
        "Bonjour {name},",
        "Bonjour,",
        "Vous trouverez notre courrier en pièce jointe, au format PDF.",
        "Bien cordialement,\nLe service consommateurs",
    ),
    "de": (
        "Unser Schreiben an Sie",
        "Guten Tag {name},",
        "Guten Tag,",
        "anbei erhalten Sie unser Schreiben an Sie als PDF.",
        "Mit freundlichen Grüßen\nIhr Verbraucherservice",
    ),
    "es": (
        "Nuestra carta",
        "Estimado/a {name}:",
        "Hola:",
        "Le adjuntamos nuestra carta en formato PDF.",
        "Atentamente,\nAtención al consumidor",
    ),
}


class InvalidLetter(ValueError):
    pass


@dataclass(frozen=True)
class LetterEmail:
    """What fulfillment asks to send: checked by `checked()`."""

    fulfillment_id: str
    case_id: str
    to_address: str
    consumer_name: str
    language: str
    pdf: bytes
    template: str = ""

    def file_name(self) -> str:
        stem = _FILE_NAME.sub("-", self.template).strip("-")[:60] or "letter"
        return f"{stem}.pdf"


def checked(letter: LetterEmail) -> LetterEmail:
    """The letter with its ids in canonical form; InvalidLetter naming the field otherwise."""
    ids = {}
    for field in ("fulfillment_id", "case_id"):
        try:
            ids[field] = str(uuid.UUID(getattr(letter, field)))
        except ValueError:
            raise InvalidLetter(f"{field}: not an id") from None
    if not _ADDRESS.match(letter.to_address.strip()):
        raise InvalidLetter("to_address: not an email address")
    if not letter.pdf.startswith(b"%PDF-"):
        raise InvalidLetter("pdf: not a PDF")
    if len(letter.pdf) > MAX_PDF_BYTES:
        raise InvalidLetter(f"pdf: larger than {MAX_PDF_BYTES} bytes")
    if len(letter.consumer_name) > 200 or len(letter.template) > 100:
        raise InvalidLetter("consumer_name or template: too long")
    return LetterEmail(
        fulfillment_id=ids["fulfillment_id"],
        case_id=ids["case_id"],
        to_address=letter.to_address.strip(),
        consumer_name=letter.consumer_name.strip(),
        language=language_of(letter.language),
        pdf=letter.pdf,
        template=letter.template,
    )


def language_of(tag: str) -> str:
    """The language the email is written in: the tag's primary subtag when there is text in it."""
    primary = (tag or "en").split("-")[0].split("_")[0].lower()
    return primary if primary in TEXTS else "en"


def body_text(language: str, name: str) -> str:
    _, named, unnamed, body, closing = TEXTS[language_of(language)]
    greeting = named.format(name=name) if name else unnamed
    return f"{greeting}\n\n{body}\n\n{closing}\n"


def compose(
    letter: LetterEmail,
    *,
    thread: Thread | None,
    reference: int,
    from_address: str,
    domain: str,
    now: datetime,
) -> Reply:
    """The email, threaded on the case's conversation when it has one."""
    subject = reply_subject(TEXTS[letter.language][0], reference).removeprefix("Re: ")
    in_reply_to, references = "", ()
    if thread is not None:
        subject = reply_subject(thread.subject, reference)
        in_reply_to = thread.last_message_id
        references = tuple(dict.fromkeys((*thread.references, thread.last_message_id)))[-20:]
    message_id = make_msgid(idstring=f"case{reference}.letter", domain=domain)
    text = body_text(letter.language, letter.consumer_name)
    message = EmailMessage()
    message["From"] = from_address
    message["To"] = letter.to_address
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = " ".join(references)
    message["Content-Language"] = letter.language
    message["X-CRS-Loop"] = domain
    message["X-CRS-Case"] = str(reference)
    message.set_content(text)
    message.add_attachment(letter.pdf, maintype="application", subtype="pdf", filename=letter.file_name())
    return Reply(
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=references,
        from_address=from_address,
        to_address=letter.to_address,
        subject=subject,
        body=text,
        mime=message.as_bytes(policy=email.policy.SMTP),
    )
