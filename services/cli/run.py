"""`crs run`: start every CRS process on this machine and stop them all together (for `make run`)."""

from __future__ import annotations

import importlib.util
import os
import secrets
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Mapping

# In start order: the edge before telephony, the services the pop reads before screenpop, and the
# console (the people's side) once what it asks is up.
PROCESSES = [
    ("contacts", "services.contacts"),
    ("billing", "services.billing"),
    ("fulfillment", "services.fulfillment"),
    ("fulfillment-worker", "services.fulfillment.worker"),
    ("knowledge", "services.knowledge"),
    ("insights", "services.insights"),
    ("channels", "services.channels"),
    ("outreach", "services.outreach"),
    ("screenpop", "services.screenpop"),
    ("console", "services.console"),
    ("edge", "services.telephony.edge"),
    ("telephony", "services.telephony"),
]
STOP_GRACE = 10.0
# The demo run shows parcels moving (the demo carrier advances them) and restock prompts following what
# is tried (a where-to-buy miss, a count imported), unless the environment says otherwise.
DEMO_DEFAULTS = {"CRS_FULFILLMENT_DEMO_CARRIER_SECONDS": "10", "CRS_FULFILLMENT_RESTOCK_SECONDS": "30"}


def available() -> list[tuple[str, str]]:
    """The processes whose code is present in this checkout."""
    found = []
    for name, module in PROCESSES:
        spec = importlib.util.find_spec(module)
        runnable = spec is not None and (
            not spec.submodule_search_locations or importlib.util.find_spec(f"{module}.__main__") is not None
        )
        if runnable:
            found.append((name, module))
    return found


def process_environment(given: Mapping[str, str]) -> dict[str, str]:
    """What each process is started with: `given` over the demo's defaults, which it may override."""
    return {**DEMO_DEFAULTS, **given}


def start(processes: list[tuple[str, str]], env: dict[str, str] | None = None) -> dict[str, subprocess.Popen]:
    env = process_environment(os.environ if env is None else env)
    children = {}
    for name, module in processes:
        children[name] = subprocess.Popen(
            [sys.executable, "-m", module],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            stdin=subprocess.DEVNULL,
        )
    return children


def stop(children: dict[str, subprocess.Popen]) -> None:
    """SIGTERM in reverse start order, so that the edge stops taking calls before what serves them."""
    for child in reversed(list(children.values())):
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE
    for child in children.values():
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()


def local_credentials(environ: dict[str, str]) -> dict[str, str]:
    """`environ` plus what a local run must not run without: the SIP edge's digest password for
    telephony, generated for this run unless given (both processes get the same one)."""
    env = dict(environ)
    if not env.get("CRS_SIP_PASSWORD"):
        env["CRS_SIP_PASSWORD"] = secrets.token_urlsafe(18)
    return env


def run(args) -> int:
    from services.runtime import settings, tls

    if not settings.in_production():
        # One development CA for every process of this run, made before any of them races to make it.
        tls.ensure_development_pki(tls.tls_dir())
    processes = available()
    print("starting: " + ", ".join(name for name, _ in processes), flush=True)
    children = start(processes, local_credentials(os.environ))
    width = max(len(name) for name in children)
    selector = selectors.DefaultSelector()
    for name, child in children.items():
        selector.register(child.stdout, selectors.EVENT_READ, name)
    stopping = False

    def on_signal(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    exit_code = 0
    try:
        while not stopping:
            for key, _ in selector.select(timeout=0.5):
                line = key.fileobj.readline()
                if line:
                    sys.stdout.write(f"{key.data:<{width}} | {line.decode(errors='replace')}")
                    sys.stdout.flush()
                else:
                    selector.unregister(key.fileobj)
            dead = [name for name, child in children.items() if child.poll() is not None]
            if dead:
                print(f"{', '.join(dead)} exited; stopping the rest", file=sys.stderr)
                exit_code = 1
                break
    finally:
        stop(children)
    # What each process said while it drained, and whether it drained cleanly.
    for name, child in children.items():
        for line in child.stdout.read().decode(errors="replace").splitlines():
            sys.stdout.write(f"{name:<{width}} | {line}\n")
    unclean = {name: child.returncode for name, child in children.items() if child.returncode != 0}
    if unclean and exit_code == 0:
        print(
            "did not stop cleanly: " + ", ".join(f"{n} (exit {c})" for n, c in unclean.items()),
            file=sys.stderr,
        )
        exit_code = 1
    sys.stdout.flush()
    return exit_code


def register(subparsers) -> None:
    parser = subparsers.add_parser("run", help="start every service here, in the foreground (Ctrl-C stops)")
    parser.set_defaults(func=run)
