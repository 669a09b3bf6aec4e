"""The consumer directory: create, read, update and list consumers; every change is an event."""

from __future__ import annotations

from datetime import datetime

from services.contacts.consumers import convert, validation
from services.contacts.consumers.model import Consumer
from services.contacts.consumers.store import ContactsStore

MAX_PAGE = 200
# A person's listing is a search for someone: a page of this size at most, and a name to start from.
PERSON_PAGE = {"agent": 20, "supervisor": 50}
MIN_NAME_PREFIX = 3
UPDATABLE = {"name", "language", "phones", "emails", "addresses"}


class NotFound(LookupError):
    pass


class Forbidden(PermissionError):
    pass


def listing_limits(role: str | None, *, page_size: int, page_token: str, name_prefix: str | None) -> int:
    """The page size `role` may have for this listing, or why they may not list (`role` None: a service).

    An agent or supervisor searches for a consumer by name (at least 3 letters) and gets one page (an
    agent) or pages of 50 (a supervisor); nobody else reads consumer profiles by listing them."""
    if role is None or role == "service":
        return max(1, min(page_size or 50, MAX_PAGE))
    if role not in PERSON_PAGE:
        raise Forbidden(f"{'an' if role[:1] in 'aeiou' else 'a'} {role} does not read consumer profiles")
    page = PERSON_PAGE[role]
    if page_size > page:
        raise validation.ValidationError(
            f"page_size: {'an' if role == 'agent' else 'a'} {role}'s page is at most {page}"
        )
    if len((name_prefix or "").strip()) < MIN_NAME_PREFIX:
        raise Forbidden(f"search for a consumer by name: give at least {MIN_NAME_PREFIX} letters of it")
    if page_token and role == "agent":
        raise Forbidden("an agent gets one page of consumers: give more of the name")
    return page_size or page


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
    *,
    store: ContactsStore,
    page_size: int,
    page_token: str,
    name_prefix: str | None,
    role: str | None = None,
) -> tuple[list[Consumer], str]:
    """A page of consumers in creation order, and the token of the next page ('' at the end); for a
    person, within `listing_limits`."""
    size = listing_limits(role, page_size=page_size, page_token=page_token, name_prefix=name_prefix)
    after = _decode_token(page_token) if page_token else None
    consumers = await store.list_consumers(after=after, limit=size + 1, name_prefix=name_prefix)
    next_token = ""
    if len(consumers) > size:
        consumers = consumers[:size]
        last = consumers[-1]
        next_token = "" if role == "agent" else f"{last.created_at.isoformat()}|{last.id}"
    return consumers, next_token


def _decode_token(token: str) -> tuple[datetime, str]:
    try:
        at, consumer_id = token.split("|", 1)
        return datetime.fromisoformat(at), consumer_id
    except ValueError:
        raise validation.ValidationError("page_token: not a token this service gave out") from None
