"""The consumer directory as casework sees it (services/contacts/interfaces.py): narrow on purpose."""

from __future__ import annotations

from datetime import datetime

from services.contacts.consumers import matching
from services.contacts.consumers.store import ContactsStore


class DirectoryLookup:
    """Answers casework's questions about consumers from the directory's own tables."""

    def __init__(self, store: ContactsStore, *, region: str):
        self.store = store
        self.region = region

    async def exists(self, consumer_id: str) -> bool:
        return await self.store.consumer_exists(consumer_id)

    async def owner_of(self, number: str) -> str | None:
        result = await matching.match_caller(store=self.store, number=number, region=self.region)
        return matching.owner_of(result.candidates)

    async def contacted(self, consumer_id: str, at: datetime) -> None:
        await self.store.contacted(consumer_id, at)
