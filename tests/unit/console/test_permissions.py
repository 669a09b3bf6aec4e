"""Every route of the console names a permission in one place, and the table knows every one named."""

from __future__ import annotations

import asyncio

import pytest

from services.console import auth
from services.console.app import build_app
from services.console.auth import Principal
from services.console.permissions import PERMISSIONS, PUBLIC, Denied, check, requires, route_permissions
from services.console.routes import auth as login_routes
from services.console.web import Context

# Open to anyone, on purpose: log-in, probes, metrics, static files, the API's description, and the
# one-click unsubscribe page (its signed token is the key).
PUBLIC_PATHS = {
    "/login",
    "/api/login",
    "/healthz",
    "/readyz",
    "/metrics",
    "/api/openapi.json",
    "/static/{path}",
    "/u/{token}",
    "/s/{token}",
}


def app():
    return build_app(Context(accounts=None, clients=None, hub=None, feed=None, recordings=None, region="US"))


def test_every_route_names_a_permission_the_table_knows_or_is_deliberately_public():
    routes = route_permissions(app())
    assert routes, "the console has routes"
    for route in routes:
        assert route.permission is not None, f"{route.method} {route.path} names no permission"
        if route.permission == PUBLIC:
            assert route.path in PUBLIC_PATHS, f"{route.method} {route.path} is public"
        else:
            assert route.permission in PERMISSIONS, route


def test_supervisors_alone_hold_the_queue_and_assigning_to_others_and_admins_the_code_tables():
    by_path = {(r.method, r.path): r.permission for r in route_permissions(app())}
    assert by_path[("GET", "/api/queue")] == "cases.queue"
    assert by_path[("GET", "/cases/queue")] == "cases.queue"
    assert by_path[("PUT", "/api/codes/{kind}/{code}")] == "codes.write"
    for permission in ("cases.queue", "cases.assign_others"):
        assert PERMISSIONS[permission] == {"supervisor"}, permission
    assert PERMISSIONS["codes.write"] == {"admin"}


def test_naming_a_permission_the_table_lacks_fails_at_import():
    with pytest.raises(KeyError):
        requires("cases.delete_everything")


def test_a_request_dependent_check_refuses_with_its_message():
    agent = Principal("a-1", "ada", "Ada", "agent", "1001", "t")
    with pytest.raises(Denied, match="an agent may take a case, not give it to others"):
        check(agent, "cases.assign_others", "an agent may take a case, not give it to others")
    check(Principal("s-1", "sam", "Sam", "supervisor", None, "t"), "cases.assign_others")


class CountingHasher:
    """Stands in for argon2 and counts the verifications, which are what takes the time."""

    def __init__(self, real):
        self.real = real
        self.verified = 0

    def verify(self, password_hash, password):
        self.verified += 1
        return self.real.verify(password_hash, password)

    def check_needs_rehash(self, password_hash):
        return False


class Accounts:
    def __init__(self, records):
        self.records = records

    async def login_record(self, username):
        return self.records.get(username)

    async def login_attempt(self, username, *, limit, lockout):
        return 1

    async def record_access(self, **entry):
        pass

    async def login_succeeded(self, username):
        pass


def test_an_unknown_user_costs_the_same_argon2_verification_as_a_wrong_password(monkeypatch):
    known = {"ada": {"agent_id": "a-1", "password_hash": auth.hash_password("ada-demo-1001")}}
    hasher = CountingHasher(auth._hasher)
    monkeypatch.setattr(auth, "_hasher", hasher)
    ctx = Context(accounts=Accounts(known), clients=None, hub=None, feed=None, recordings=None, region="US")
    for username, password, expected in (
        ("nobody", "whatever-at-all", None),
        ("ada", "not-her-password", None),
        ("", "empty-username", None),
        ("x" * 300, "too-long-username", None),
        ("ada", "ada-demo-1001", "a-1"),
    ):
        before = hasher.verified
        assert asyncio.run(login_routes.login(ctx, username, password, "192.0.2.1")) == expected
        assert hasher.verified - before == 1, username[:10]


async def test_an_unknown_path_is_not_found_and_a_wrong_method_not_allowed():
    from aiohttp.test_utils import TestClient, TestServer

    async with TestClient(TestServer(app())) as client:
        assert (await client.get("/no/such/page")).status == 404
        assert (await client.delete("/api/queue")).status == 405
        assert (await client.get("/healthz")).status == 200
