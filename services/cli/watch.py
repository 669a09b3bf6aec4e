"""`crs watch --agent EXT --json`: print each pop for an extension as it arrives, one JSON object a line.

Authentication, first match wins:
- `CRS_WATCH_TOKEN`: a token from `crs agent token USER` (or from POST /api/login);
- `--user` with `--password`, or `CRS_WATCH_PASSWORD`, or a prompt when standard input is a terminal.
An agent may watch only their own extension; a supervisor, any of their team's.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import sys

import aiohttp

from services.runtime.settings import env

RETRY_LIMIT = 10.0


class Refused(Exception):
    """The server said no: wrong credentials, or an extension this user may not watch."""


async def obtain_token(http: aiohttp.ClientSession, base: str, user: str, password: str) -> str:
    async with http.post(f"{base}/api/login", json={"username": user, "password": password}) as reply:
        if reply.status != 200:
            raise Refused(f"log-in refused ({reply.status}): wrong username or password")
        return (await reply.json())["token"]


def human(pop: dict) -> str:
    caller = pop.get("caller") or {}
    who = "withheld" if caller.get("withheld") else caller.get("number") or "unknown"
    consumer = pop.get("consumer") or {}
    parts = [f"ext {pop.get('extension')}", f"call from {who}", pop.get("route", "")]
    if consumer:
        parts.append(consumer.get("name", ""))
    if pop.get("balance"):
        parts.append(f"balance {pop['balance']['display']}")
    if pop.get("partial"):
        parts.append("missing: " + ", ".join(pop["partial"]))
    return " | ".join(p for p in parts if p)


async def watch(args) -> int:
    base = args.url.rstrip("/")
    token = env("CRS_WATCH_TOKEN", "")
    printed = 0
    delay = 0.5
    async with aiohttp.ClientSession() as http:
        if not token:
            if not args.user:
                raise Refused("set CRS_WATCH_TOKEN, or pass --user (and --password or CRS_WATCH_PASSWORD)")
            password = args.password or env("CRS_WATCH_PASSWORD", "")
            if not password and sys.stdin.isatty():
                password = getpass.getpass(f"password for {args.user}: ")
            token = await obtain_token(http, base, args.user, password)
        ws_url = base.replace("http://", "ws://", 1).replace("https://", "wss://", 1) + "/ws"
        while True:
            try:
                async with http.ws_connect(
                    ws_url, params={"extension": args.agent}, headers={"Authorization": f"Bearer {token}"}
                ) as ws:
                    delay = 0.5
                    async for message in ws:
                        if message.type != aiohttp.WSMsgType.TEXT:
                            break
                        event = json.loads(message.data)
                        if event.get("type") != "pop":
                            continue
                        print(json.dumps(event) if args.json else human(event), flush=True)
                        printed += 1
                        if args.count and printed >= args.count:
                            return 0
            except aiohttp.WSServerHandshakeError as exc:
                if exc.status in (401, 403):
                    reason = (
                        "not logged in" if exc.status == 401 else f"you may not watch extension {args.agent}"
                    )
                    raise Refused(f"socket refused ({exc.status}): {reason}") from exc
            except (aiohttp.ClientError, OSError) as exc:
                print(f"crs watch: connection lost ({type(exc).__name__}); retrying", file=sys.stderr)
            await asyncio.sleep(delay)  # back-off before reconnecting, not synchronisation
            delay = min(delay * 2, RETRY_LIMIT)


def run(args) -> int:
    try:
        return asyncio.run(watch(args))
    except Refused as exc:
        print(f"crs watch: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def register(subparsers) -> None:
    parser = subparsers.add_parser("watch", help="print the pops of an extension as they arrive")
    parser.add_argument("--agent", required=True, metavar="EXT", help="the extension to watch, e.g. 1001")
    parser.add_argument("--json", action="store_true", help="one JSON object per pop per line")
    parser.add_argument(
        "--url",
        default=env("CRS_CONSOLE_URL", "http://127.0.0.1:8080"),
        help="the console's address (CRS_CONSOLE_URL)",
    )
    parser.add_argument("--user", help="log in as this agent or supervisor (else CRS_WATCH_TOKEN)")
    parser.add_argument("--password", help="the password (else CRS_WATCH_PASSWORD, else a prompt)")
    parser.add_argument("--count", type=int, default=0, metavar="N", help="exit after N pops")
    parser.set_defaults(func=run)
