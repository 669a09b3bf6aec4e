"""The consumer directory: create, read, update and list consumers; every change is an event."""

from __future__ import annotations

from datetime import datetime

from services.contacts.consumers import convert, validation
from services.contacts.consumers.model import Consumer
from services.contacts.consumers.store import ContactsStore

MAX_PAGE = 200
UPDATABLE = {"name", "language", "phones", "emails", "addresses"}


class NotFound(LookupError):
    pass


async def create_consumer(*, store: ContactsStore, consumer: Consumer, region: str) -> Consumer:
    """Validate and store a new consumer, and publish consumer_created with it."""
    cleaned = validation.clean_consumer(consumer, region=region)
    async with store.unit_of_work() as uow:
        consumer_id = await uow.consumers.add(cleaned)
        created = await uow.consumers.get(consumer_id)
        await uow.add_event(convert.consumer_created(created))
        await uow.commit()
    return created


async def get_consumer(*, store: ContactsStore, consumer_id: str) -> Consumer:
    """The consumer with `consumer_id`, with numbers, emails and addresses."""
    consumer = await store.get_consumer(consumer_id)
    if consumer is None:
        raise NotFound(f"no consumer {consumer_id}")
    return consumer


async def update_consumer(
    *, store: ContactsStore, consumer_id: str, changes: Consumer, fields: set[str], region: str
) -> Consumer:
    """Write the named fields of `changes` onto the consumer, and publish consumer_updated."""
    unknown = fields - UPDATABLE
    if unknown:
        raise validation.ValidationError(f"update_mask: cannot update {', '.join(sorted(unknown))}")
    if not fields:
        raise validation.ValidationError("update_mask: name at least one field to update")
    async with store.unit_of_work() as uow:
        current = await uow.consumers.get(consumer_id)
        if current is None:
            raise NotFound(f"no consumer {consumer_id}")
        merged = Consumer(**{**current.__dict__, **{f: getattr(changes, f) for f in fields}})
        cleaned = validation.clean_consumer(merged, region=region)
        await uow.consumers.update(consumer_id, cleaned, fields)
        updated = await uow.consumers.get(consumer_id)
        await uow.add_event(convert.consumer_updated(updated, sorted(fields)))
        await uow.commit()
    return updated


async def list_consumers(
    *, store: ContactsStore, page_size: int, page_token: str, name_prefix: str | None
) -> tuple[list[Consumer], str]:
    """A page of consumers in creation order, and the token of the next page ('' at the end)."""
    size = max(1, min(page_size or 50, MAX_PAGE))
    after = _decode_token(page_token) if page_token else None
    consumers = await store.list_consumers(after=after, limit=size + 1, name_prefix=name_prefix)
    next_token = ""
    if len(consumers) > size:
        consumers = consumers[:size]
        last = consumers[-1]
        next_token = f"{last.created_at.isoformat()}|{last.id}"
    return consumers, next_token


def _decode_token(token: str) -> tuple[datetime, str]:
    try:
        at, consumer_id = token.split("|", 1)
        return datetime.fromisoformat(at), consumer_id
    except ValueError:
        raise validation.ValidationError("page_token: not a token this service gave out") from None
