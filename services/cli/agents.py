"""`crs agent add|passwd|disable|token`: console accounts for agents, supervisors, analysts and admins."""

from __future__ import annotations

import getpass
import secrets
import sys
import time
from datetime import timedelta

from services.console import auth, tokens
from services.console.accounts import UPSERT_TEAM, new_session_id
from services.console.seed import SCHEMA, upsert_agent
from services.runtime import db
from services.runtime.settings import Common, env

API_TOKEN_DAYS = 30


def _password(args) -> str:
    password = args.password or env("CRS_AGENT_PASSWORD", "")
    if not password and sys.stdin.isatty():
        password = getpass.getpass("password: ")
    if not password:
        raise SystemExit("give a password: --password, CRS_AGENT_PASSWORD, or type it at the prompt")
    return password


def add(args) -> int:
    url = args.database_url or Common.from_env().database_url
    with db.connect(url, schema=SCHEMA) as conn:
        if args.team:
            conn.execute(UPSERT_TEAM, (args.team, args.team))
        try:
            upsert_agent(
                conn,
                username=args.username,
                display_name=args.name or args.username,
                password=_password(args),
                role=args.role,
                extension=args.extension,
                team_id=args.team,
            )
        except ValueError as exc:
            print(f"crs agent: {exc}", file=sys.stderr)
            return 2
        conn.commit()
    print(f"{args.username}: {args.role}" + (f" on extension {args.extension}" if args.extension else ""))
    return 0


def passwd(args) -> int:
    url = args.database_url or Common.from_env().database_url
    try:
        hashed = auth.hash_password(_password(args))
    except ValueError as exc:
        print(f"crs agent: {exc}", file=sys.stderr)
        return 2
    with db.connect(url, schema=SCHEMA) as conn:
        cur = conn.execute(
            "UPDATE agents SET password_hash = %s WHERE username = %s", (hashed, args.username)
        )
        # A new password ends every session opened with the old one.
        conn.execute(
            "DELETE FROM sessions WHERE agent_id = (SELECT id FROM agents WHERE username = %s)",
            (args.username,),
        )
        conn.commit()
    if cur.rowcount != 1:
        print(f"crs agent: no agent named {args.username}", file=sys.stderr)
        return 1
    print(f"{args.username}: password changed, sessions ended")
    return 0


def disable(args) -> int:
    """Disable an agent: they cannot log in, and every session and token of theirs ends now."""
    url = args.database_url or Common.from_env().database_url
    with db.connect(url, schema=SCHEMA) as conn:
        cur = conn.execute("UPDATE agents SET active = false WHERE username = %s", (args.username,))
        conn.execute(
            "DELETE FROM sessions WHERE agent_id = (SELECT id FROM agents WHERE username = %s)",
            (args.username,),
        )
        conn.commit()
    if cur.rowcount != 1:
        print(f"crs agent: no agent named {args.username}", file=sys.stderr)
        return 1
    print(f"{args.username}: disabled, sessions ended")
    return 0


def token(args) -> int:
    """Print a bearer token for the console's API and `crs watch` (CRS_WATCH_TOKEN).

    Send it as `Authorization: Bearer <token>`; it carries the agent's permissions. It is signed with the
    first key of CRS_CONSOLE_TOKEN_KEYS for the API's audience, and names a session row that
    `crs agent passwd` and `crs agent disable` delete.
    """
    url = args.database_url or Common.from_env().database_url
    keys = tokens.keys_from_env()
    session_id, ttl = new_session_id(), timedelta(days=args.days)
    with db.connect(url, schema=SCHEMA) as conn:
        cur = conn.execute(
            "INSERT INTO sessions (id, agent_id, kind, csrf_token, expires_at)"
            " SELECT %s, id, 'api', %s, now() + %s FROM agents WHERE username = %s AND active",
            (session_id, secrets.token_urlsafe(32), ttl, args.username),
        )
        conn.commit()
    if cur.rowcount != 1:
        print(f"crs agent: no active agent named {args.username}", file=sys.stderr)
        return 1
    print(keys.issue(session_id=session_id, audience=tokens.API, ttl=ttl, now=time.time()))
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("agent", help="console accounts: add, passwd, disable, token")
    parser.add_argument("--database-url", help="defaults to CRS_DATABASE_URL")
    commands = parser.add_subparsers(dest="agent_command", metavar="ACTION", required=True)

    add_parser = commands.add_parser("add", help="create or update an agent or supervisor")
    add_parser.add_argument("username")
    add_parser.add_argument("--name", help="the name shown in the console")
    add_parser.add_argument("--role", choices=auth.ROLES, default="agent")
    add_parser.add_argument("--extension", help="the extension the agent sits at")
    add_parser.add_argument("--team", help="team id; a supervisor watches their team")
    add_parser.add_argument("--password", help="else CRS_AGENT_PASSWORD, else a prompt")
    add_parser.set_defaults(func=add)

    passwd_parser = commands.add_parser("passwd", help="set a new password and end the agent's sessions")
    passwd_parser.add_argument("username")
    passwd_parser.add_argument("--password", help="else CRS_AGENT_PASSWORD, else a prompt")
    passwd_parser.set_defaults(func=passwd)

    disable_parser = commands.add_parser("disable", help="disable an agent and end their sessions")
    disable_parser.add_argument("username")
    disable_parser.set_defaults(func=disable)

    token_parser = commands.add_parser("token", help="print a bearer token for the console API and crs watch")
    token_parser.add_argument("username")
    token_parser.add_argument("--days", type=int, default=API_TOKEN_DAYS)
    token_parser.set_defaults(func=token)
