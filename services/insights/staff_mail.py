"""Staff mail's use cases: the stakeholder lists, the weekly digest (built, drawn, claimed once per ISO week)
and the mailer that sends what is owed (alerts to QA, digests, regulatory warnings to legal) through
channels' notices. Plain Python over the StaffStore and Notices ports.

What is owed is written in the transaction that makes it owed (`staff_mail`), so an alert raised or a week
claimed is mailed even when the process dies before sending; the mailer takes due rows on a lease and
gives channels a key per recipient, so a row sent twice (a crash after channels took it) is one email.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from services.insights.domain import digest as digesting
from services.insights.domain import staff
from services.insights.domain.staff import Mail, Stakeholder
from services.insights.service import Insights, NotAllowed

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
FIRST_RETRY, LAST_RETRY = timedelta(seconds=10), timedelta(minutes=30)
BATCH = 20


class ChannelsDown(ConnectionError):
    """Channels did not answer: the mail stays owed and goes again, with the same keys, later."""


@dataclass(frozen=True)
class Owed:
    key: str
    kind: str  # alert, digest, regulatory
    payload: dict
    attempts: int


class StaffStore(Protocol):
    async def stakeholders(self, role: str = "") -> list[Stakeholder]: ...
    async def put_stakeholder(self, person: Stakeholder, actor: str, now: datetime) -> None: ...
    async def remove_stakeholder(self, role: str, email: str) -> bool: ...
    async def claim_week(self, week: str, lists: tuple[str, ...], actor: str, now: datetime) -> bool:
        """Claim the week's digest and owe one mail per list, in one transaction; False when claimed before."""

    async def take_due(self, now: datetime, lease: timedelta, limit: int) -> list[Owed]: ...
    async def sent(self, key: str, recipients: int, note: str, now: datetime) -> None: ...
    async def retry(self, key: str, error: str, at: datetime) -> None: ...


class Notices(Protocol):
    async def send(self, mails: list[Mail]) -> list[str]:
        """Each mail's refusal ("" when channels took it); raises ChannelsDown."""


Renderer = Callable[[digesting.Digest, str], bytes]


class StaffMail:
    def __init__(
        self,
        store: StaffStore,
        insights: Insights,
        notices: Notices | None,
        render: Renderer,
        *,
        console_url: str,
        clock: Callable[[], datetime],
        digest_hour: int = 6,
    ):
        self.store, self.insights, self.notices, self.render = store, insights, notices, render
        self.console_url, self.clock, self.digest_hour = console_url, clock, digest_hour

    # -- the stakeholder lists --

    async def stakeholders(self, role: str = "") -> list[Stakeholder]:
        if role and role not in staff.LISTS:
            raise staff.InvalidStakeholder(f"role: one of {', '.join(staff.LISTS)}")
        return await self.store.stakeholders(role)

    async def put_stakeholder(self, *, email: str, role: str, name: str, actor: str, actor_role: str):
        if actor_role not in staff.EDITORS:
            raise NotAllowed("only an admin edits the stakeholder lists")
        person = staff.stakeholder(email, role, name)
        await self.store.put_stakeholder(person, actor, self.clock())
        return person

    async def remove_stakeholder(self, *, email: str, role: str, actor_role: str) -> bool:
        if actor_role not in staff.EDITORS:
            raise NotAllowed("only an admin edits the stakeholder lists")
        return await self.store.remove_stakeholder(role, email.strip().lower())

    # -- the weekly digest --

    async def digest(self, week: str) -> digesting.Digest:
        staff.week_days(week)  # a bad week is refused before anything is read
        data = self.insights.store
        return digesting.build(
            week,
            facts=await data.contacts(),
            sales=await data.sales(),
            alerts=await data.alerts(),
            works=await data.works(),
            ratings=await data.ratings(),
            now=self.clock(),
            tuning=self.insights.tuning,
        )

    async def pdf(self, week: str, audience: str = "qa") -> bytes:
        if audience not in staff.LISTS:
            raise staff.InvalidStakeholder(f"list: one of {', '.join(staff.LISTS)}")
        return await self._drawn(week, audience)

    async def _drawn(self, week: str, audience: str) -> bytes:
        # Drawing takes about 0.1 s of CPU: off the event loop, so the bus and gRPC keep answering meanwhile.
        return await asyncio.to_thread(self.render, await self.digest(week), audience)

    async def claim_digest(self, week: str, actor: str = "schedule") -> bool:
        """Owe the week's digest to every list, once: False when the week was claimed before."""
        staff.week_days(week)
        return await self.store.claim_week(week, staff.LISTS, actor, self.clock())

    def due_week(self) -> str:
        """The week the schedule mails now: last week, from Monday at `digest_hour` (UTC) on."""
        return staff.last_full_week(self.clock() - timedelta(hours=self.digest_hour))

    # -- the mailer --

    async def tick(self) -> int:
        """One round of the schedule: claim the due week's digest (once), then send what is owed."""
        if await self.claim_digest(self.due_week()):
            log.info("claimed the weekly digest of %s", self.due_week())
        return await self.send_due()

    async def run(self, stop: asyncio.Event, every: float) -> None:
        """The schedule: a round every `every` seconds until `stop`; a failed round is logged and retried."""
        while not stop.is_set():
            try:
                await self.tick()
            except Exception:
                log.exception("a staff mail round failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every)

    async def send_due(self) -> int:
        """Send every owed mail that is due; how many rows were settled."""
        if self.notices is None:
            return 0
        settled = 0
        for owed in await self.store.take_due(self.clock(), LEASE, BATCH):
            try:
                mails = await self._mails(owed)
                refusals = await self.notices.send(mails) if mails else []
            except ChannelsDown as exc:
                wait = min(LAST_RETRY, FIRST_RETRY * 2 ** min(owed.attempts, 12))
                await self.store.retry(owed.key, str(exc)[:500], self.clock() + wait)
                log.warning("staff mail %s: %s; trying again in %s", owed.key, exc, wait)
                continue
            note = "; ".join(f"{m.to_address}: {r}" for m, r in zip(mails, refusals, strict=True) if r)
            if not mails:
                note = f"nobody to send it to: no one is on the {self._list(owed)} list"
                log.warning("staff mail %s: %s", owed.key, note)
            await self.store.sent(owed.key, len(mails), note[:2000], self.clock())
            settled += 1
        return settled

    @staticmethod
    def _list(owed: Owed) -> str:
        return {"alert": "qa", "digest": owed.payload.get("list", "")}.get(owed.kind, "regime's notify")

    async def _mails(self, owed: Owed) -> list[Mail]:
        if owed.kind == "alert":
            alert = await self.insights.store.alert(owed.payload["alert_id"])
            qa = await self.store.stakeholders("qa")
            return staff.alert_mails(alert, qa, self.console_url) if alert else []
        if owed.kind == "digest":
            return await self._digest_mails(owed.payload["week"], owed.payload["list"])
        return staff.regulatory_mails(owed.payload["warning"], owed.payload["event_id"], self.console_url)

    async def _digest_mails(self, week: str, audience: str) -> list[Mail]:
        members = await self.store.stakeholders(audience)
        if not members:
            return []
        pdf = await self._drawn(week, audience)
        subject = f"Consumer affairs weekly digest {week}"
        body = f"The weekly digest of {week} for {staff.LIST_TITLES[audience]} is attached (PDF).\n"
        name = f"digest-{week}-{audience}.pdf"
        return [
            Mail(f"digest:{week}:{audience}:{p.email}", p.email, subject, body, name, pdf) for p in members
        ]
