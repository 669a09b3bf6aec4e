"""`python -m services.channels`: email in (SMTP/LMTP ingress), email out (the outbox and its sender), and
the Channels gRPC API. Cases stay in casework: every inbound message reaches a case through its gRPC."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pathlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web

from services.channels import (
    acknowledge,
    chat_files_web,
    chat_web,
    grpc_api,
    imap,
    imap_client,
    language,
    metrics,
    ocr,
    outbound,
)
from services.channels.acknowledge import Acknowledger
from services.channels.chat import RESUME_SECONDS, ChatDesks
from services.channels.chat_files import ChatFiles
from services.channels.chat_files_store import SqlChatFiles
from services.channels.contacts_client import CaseworkCases, ContactsConsumers
from services.channels.dkim_sign import Signer
from services.channels.imap_store import SqlLeases, SqlPositions
from services.channels.intake import Intake
from services.channels.knowledge_client import FulfillmentShops, KnowledgeAnswers, KnowledgeClient
from services.channels.letter_cases import CaseworkLetters
from services.channels.letter_store import SqlLetterStore
from services.channels.letters import Letters
from services.channels.notices import Notices
from services.channels.notices_store import SqlNotices
from services.channels.reply_templates import ReplyTemplates
from services.channels.reply_templates_store import SqlTemplates
from services.channels.service import Channels
from services.channels.sink import serve_sink
from services.channels.smtp import SmtpRelay, serve_ingress
from services.channels.store import SqlStore
from services.channels.web_form_store import SqlOffers
from services.channels.web_form_wiring import WebFormSettings, web_form_app
from services.runtime import grpcio, process
from services.runtime.db import open_pool
from services.runtime.grpcio import Server
from services.runtime.settings import (
    Common,
    env,
    env_float,
    env_int,
    grpc_bind,
    grpc_target,
    in_production,
    split_hostport,
)

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
# Notices the notice sender hands the relay over one connection at a time.
NOTICE_BATCH = 500

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    database_url: str
    grpc_bind: str
    contacts: str
    smtp_bind: str
    lmtp_bind: str
    smtp_url: str
    from_address: str
    domain: str
    issue_code: str
    thread_window_days: float
    outbox_interval: float
    # The development sink, started when no relay is named (CRS_SMTP_URL unset) outside production.
    sink_bind: str = ""
    sink_dir: str = ""
    # A PEM private key: replies are DKIM-signed for `domain` with this selector.
    dkim_key: str = ""
    dkim_selector: str = "crs"
    # The chat widget's script and socket; only pages of these origins may open the socket.
    chat_bind: str = ""
    chat_origins: frozenset[str] = frozenset()
    chat_burst: float = 10.0
    chat_rate: float = 2.0
    # Development only: a demo page of "the brand's site", on another origin (allowed beside chat_origins),
    # that carries the widget.
    chat_demo_bind: str = ""
    # The public web form (none when settings made by hand leave it out).
    web_form: WebFormSettings | None = None
    # Hosted mailboxes read over IMAP with IDLE: imap[s]://user:password@host:port/FOLDER each.
    imap_urls: tuple[str, ...] = ()
    imap_stale_seconds: float = 900.0
    imap_idle_seconds: float = 300.0
    # Knowledge's gRPC target: the chat assistant's answers and, with email_ack, an acknowledgement with
    # suggested articles for a new email case that asks a question (empty: neither).
    knowledge: str = ""
    email_ack: bool = False
    # Fulfillment's, for the stores the chat assistant lists (none when left empty).
    fulfillment: str = ""
    home_region: str = "US"
    # How long a chat whose page closed waits for its reload (0: a closed page ends the chat).
    chat_resume_seconds: float = RESUME_SECONDS

    @classmethod
    def from_env(cls) -> Settings:
        from_address = env("CRS_CHANNELS_FROM", "care@crs.localhost")
        sink_bind = env("CRS_CHANNELS_SINK_BIND", "127.0.0.1:2526")
        relay = env("CRS_SMTP_URL", "")
        if not relay and in_production():
            raise SystemExit("CRS_SMTP_URL must name the SMTP relay replies leave by")
        return cls(
            database_url=Common.from_env().database_url,
            grpc_bind=grpc_bind("channels"),
            contacts=grpc_target("contacts"),
            # The SMTP ingress an MTA delivers to; LMTP (for Postfix's lmtp transport) only when set.
            smtp_bind=env("CRS_CHANNELS_SMTP_BIND", "127.0.0.1:2525"),
            lmtp_bind=env("CRS_CHANNELS_LMTP_BIND", ""),
            smtp_url=relay or f"smtp://{sink_bind}",
            from_address=from_address,
            domain=env("CRS_CHANNELS_MAIL_DOMAIN", from_address.rpartition("@")[2]),
            issue_code=env("CRS_CHANNELS_EMAIL_ISSUE", "question"),
            thread_window_days=env_float("CRS_CHANNELS_THREAD_WINDOW_DAYS", 14.0),
            outbox_interval=env_float("CRS_CHANNELS_OUTBOX_INTERVAL", 5.0),
            sink_bind="" if relay else sink_bind,
            sink_dir=env("CRS_CHANNELS_SINK_DIR", str(REPO_ROOT / "var" / "mail-sink")),
            dkim_key=env("CRS_CHANNELS_DKIM_KEY", ""),
            dkim_selector=env("CRS_CHANNELS_DKIM_SELECTOR", "crs"),
            chat_bind=env("CRS_CHANNELS_CHAT_BIND", "127.0.0.1:8082"),
            chat_origins=frozenset(
                o.strip().rstrip("/").lower()
                for o in env("CRS_CHANNELS_CHAT_ORIGINS", "").split(",")
                if o.strip()
            ),
            chat_burst=env_float("CRS_CHANNELS_CHAT_BURST", 10.0),
            chat_rate=env_float("CRS_CHANNELS_CHAT_RATE", 2.0),
            chat_demo_bind="" if in_production() else env("CRS_CHANNELS_CHAT_DEMO_BIND", "127.0.0.1:8083"),
            web_form=WebFormSettings.from_env(),
            imap_urls=tuple(u.strip() for u in env("CRS_CHANNELS_IMAP_URLS", "").split(",") if u.strip()),
            imap_stale_seconds=env_float("CRS_CHANNELS_IMAP_STALE_SECONDS", 900.0),
            imap_idle_seconds=env_float("CRS_CHANNELS_IMAP_IDLE_SECONDS", 300.0),
            knowledge=grpc_target("knowledge"),
            email_ack=env("CRS_CHANNELS_EMAIL_ACK", "1") == "1",
            fulfillment=grpc_target("fulfillment"),
            home_region=Common.from_env().home_region,
        )


async def _counted(outcome: str, recording) -> None:
    metrics.OUTBOUND.labels(outcome).inc()
    await recording


async def _send_loop(
    deliver: Callable[[], Awaitable[int]], queued: asyncio.Event, stop: asyncio.Event, interval: float
) -> None:
    """`deliver` every `interval` seconds, at once when something is queued, and again while it fills its
    batch (there is more due)."""
    while not stop.is_set():
        queued.clear()
        try:
            if await deliver() >= NOTICE_BATCH:
                continue
        except Exception:
            log.exception("the outbox sender failed this round; queued mail stays queued")
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(queued.wait())]
        await asyncio.wait(waiters, timeout=interval, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            waiter.cancel()


async def _serve_chat(desks: ChatDesks, files: ChatFiles, settings: Settings) -> list[web.AppRunner]:
    """The widget's script and socket (none when settings made by hand leave chat_bind empty); in
    development, the demo page that carries the widget."""
    if not settings.chat_bind:
        return []
    origins = set(settings.chat_origins)
    chat = chat_web.app(desks, origins=origins, burst=settings.chat_burst, rate=settings.chat_rate)
    chat_files_web.add_routes(chat, files, origins)
    runners = [await _site(chat, settings.chat_bind)]
    if settings.chat_demo_bind:
        host = split_hostport(settings.chat_bind)[0].replace("0.0.0.0", "127.0.0.1")
        widget = f"http://{host}:{runners[0].addresses[0][1]}/chat/widget.js"
        runners.append(await _site(chat_web.demo_app(widget), settings.chat_demo_bind))
        demo_host, demo_port = runners[1].addresses[0][:2]
        demo_host = "127.0.0.1" if demo_host == "0.0.0.0" else demo_host
        origins |= {f"http://{demo_host}:{demo_port}", f"http://localhost:{demo_port}"}
    if not origins:
        log.warning("CRS_CHANNELS_CHAT_ORIGINS names no site: every widget socket will be refused")
    return runners


def _read_mailboxes(intake: Intake, pool, settings: Settings, stop: asyncio.Event) -> list[asyncio.Task]:
    """A reader per IMAP mailbox (each read by one replica at a time, under its lease), and the watchdog
    that reports one not read for too long."""
    mailboxes = [imap.Mailbox.from_url(url) for url in settings.imap_urls]
    if not mailboxes:
        return []
    health = imap.Health(started=datetime.now().astimezone(), read_at={})
    positions = SqlPositions(pool)
    leases = SqlLeases(settings.database_url)
    readers = [
        imap.Reader(
            mailbox,
            connect=imap_client.connect,
            positions=positions,
            intake=intake,
            health=health,
            on_outcome=metrics.inbound,
            idle_timeout=settings.imap_idle_seconds,
            leases=leases,
        )
        for mailbox in mailboxes
    ]

    async def read() -> None:
        try:
            await asyncio.gather(*(reader.run(stop) for reader in readers))
        finally:
            await leases.close()

    watchdog = imap.watch(
        health,
        [m.name for m in mailboxes],
        stale_after=timedelta(seconds=settings.imap_stale_seconds),
        report=metrics.imap_health,
        stop=stop,
        every=min(10.0, settings.imap_stale_seconds / 4),
        read_times=positions.read_times,
    )
    return [asyncio.create_task(read()), asyncio.create_task(watchdog)]


async def _site(application: web.Application, bind: str) -> web.AppRunner:
    runner = web.AppRunner(application, access_log=None)
    await runner.setup()
    host, port = split_hostport(bind)
    await web.TCPSite(runner, host, port).start()
    return runner


async def serve(
    stop: asyncio.Event, settings: Settings, *, on_ready: Callable[[dict], None] | None = None
) -> None:
    pool = await open_pool(
        settings.database_url, schema="channels", max_size=env_int("CRS_CHANNELS_DB_POOL_SIZE", 5)
    )
    contacts = grpcio.channel(settings.contacts)
    # One channel to knowledge, for the chat assistant, the web form's suggestions and email
    # acknowledgements alike.
    knowledge_target = settings.knowledge or (settings.web_form.knowledge if settings.web_form else "")
    knowledge = grpcio.channel(knowledge_target) if knowledge_target else None
    fulfillment = grpcio.channel(settings.fulfillment) if settings.fulfillment else None
    acknowledgements = acknowledge.InBackground(None)
    try:
        store = SqlStore(pool)
        cases = CaseworkCases(contacts, issue_code=settings.issue_code)
        intake = Intake(
            store=store,
            cases=cases,
            consumers=ContactsConsumers(contacts),
            own_domain=settings.domain,
            window=timedelta(days=settings.thread_window_days),
            detect_language=language.detect,
            on_new_case=acknowledgements,
        )
        signer = None
        if settings.dkim_key:
            signer = Signer.from_file(
                settings.dkim_key, domain=settings.domain, selector=settings.dkim_selector
            )
        channels = Channels(
            store, from_address=settings.from_address, domain=settings.domain, signer=signer, cases=cases
        )
        notices = Notices(
            SqlNotices(pool, from_address=settings.from_address),
            from_address=settings.from_address,
            domain=settings.domain,
            clock=channels.clock,
            signer=signer,
        )
        relay = SmtpRelay(settings.smtp_url)
        notice_sender = outbound.Sender(
            store=notices.store,
            relay=relay,
            on_sent=metrics.notice_delivered,
            on_failed=metrics.notice_failed,
        )
        if settings.email_ack and knowledge is not None:
            acknowledgements.acknowledger = Acknowledger(
                knowledge=KnowledgeClient(knowledge), replies=channels
            )
        sender = outbound.Sender(
            store=store,
            relay=relay,
            on_sent=lambda item: _counted(
                "sent",
                # An acknowledgement is no agent's answer: it does not stop the first-response clock.
                asyncio.sleep(0)
                if item.author == acknowledge.AUTHOR
                else cases.replied(item.case_id, author=item.author, subject=item.subject),
            ),
            on_failed=lambda item, error: _counted("failed", cases.not_delivered(item.case_id, error=error)),
        )
        ingresses = [await serve_ingress(intake, settings.smtp_bind)]
        if settings.sink_bind:
            ingresses.append(await serve_sink(settings.sink_bind, pathlib.Path(settings.sink_dir)))
        if settings.lmtp_bind:
            lmtp = await serve_ingress(intake, settings.lmtp_bind, lmtp=True)
            ingresses.append(lmtp)
        desks = ChatDesks(
            store=store,
            cases=cases,
            consumers=intake.consumers,
            intake=intake,
            centre_address=settings.from_address,
            answers=KnowledgeAnswers(knowledge) if knowledge is not None else None,
            shops=FulfillmentShops(fulfillment, country=settings.home_region)
            if fulfillment is not None
            else None,
            resume_seconds=settings.chat_resume_seconds,
        )
        chat_files = ChatFiles(desks, SqlChatFiles(pool))
        chat = await _serve_chat(desks, chat_files, settings)
        form = settings.web_form
        form_site = await _site(web_form_app(form, pool, contacts, knowledge), form.bind) if form else None
        templates = ReplyTemplates(SqlTemplates(pool))
        sink_dir = pathlib.Path(settings.sink_dir) if settings.sink_bind else None
        letters = Letters(
            store=SqlLetterStore(pool),
            cases=CaseworkLetters(contacts, issue_code=settings.issue_code),
            read_text=ocr.read_text,
            detect_language=language.detect,
        )
        server = Server(
            [
                grpc_api.servicer(
                    channels,
                    desks,
                    templates,
                    sink_dir,
                    web_form=SqlOffers(pool),
                    letters=letters,
                    chat_files=chat_files,
                    notices=notices,
                )
            ],
            settings.grpc_bind,
        )
        port = await server.start()
        sending = asyncio.gather(
            _send_loop(sender.deliver_due, channels.queued, stop, settings.outbox_interval),
            _send_loop(
                lambda: notice_sender.deliver_batch(NOTICE_BATCH),
                notices.queued,
                stop,
                settings.outbox_interval,
            ),
        )
        reading = _read_mailboxes(intake, pool, settings, stop)
        if on_ready is not None:
            on_ready(
                {"grpc": port, "smtp": ingresses[0].sockets[0].getsockname()[1]}
                | ({"lmtp": lmtp.sockets[0].getsockname()[1]} if settings.lmtp_bind else {})
                | ({"chat": chat[0].addresses[0][1]} if chat else {})
                | ({"chat_demo": chat[1].addresses[0][1]} if len(chat) > 1 else {})
                | ({"web_form": form_site.addresses[0][1]} if form_site else {})
            )
        await stop.wait()
        for ingress in ingresses:
            ingress.close()
        await server.stop(env_float("CRS_CHANNELS_SHUTDOWN_GRACE", 5.0))
        sending.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sending
        await asyncio.gather(*reading, return_exceptions=True)
        await acknowledgements.drain()
        for runner in chat:
            await runner.cleanup()
        if form_site is not None:
            await form_site.cleanup()
    finally:
        for channel in (contacts, knowledge, fulfillment):
            if channel is not None:
                await channel.close()
        await pool.close()


async def main(stop: asyncio.Event) -> None:
    await serve(stop, Settings.from_env())


if __name__ == "__main__":
    process.run("channels", main)
