"""The standing fault suite: each fault lands in a steady load of calls and web forms, then the books are
checked. `make faults` runs every fault; the suite's test runs a short form.

    .venv/bin/python -m tests.faults              # 20 calls/s, every fault
    .venv/bin/python -m tests.faults --short      # 5 calls/s, one service, the broker and the database

For each fault: calls that rang and ended (seen by sipp) must each be filed as exactly one contact (the
call_ended event applied once), forms the web form accepted must each be stored exactly once and forms it
did not accept not at all; the service must answer, and a form be accepted, within RECOVERY_BOUND seconds
of the fault. Exit 1 when anything is lost, doubled or slow to recover.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from tests.faults.load import CallLoad, FormLoad, filed, stored
from tests.faults.stack import SERVICES, FaultStack
from tests.support.wait import Timeout, wait_for

RECOVERY_BOUND = 30.0
# After the load stops, how long every ended call and accepted form has to reach the database.
SETTLE_SECONDS = 60.0


@dataclass
class Fault:
    name: str
    inject: Callable[[FaultStack], None]


def kill_service(name: str) -> Fault:
    def inject(stack: FaultStack) -> None:
        stack.kill(name)
        stack.restart(name)

    return Fault(f"kill -9 {name}", inject)


def kill_broker(stack: FaultStack) -> None:
    stack.broker.stop(kill=True)
    stack.broker.start()


def restart_database(stack: FaultStack) -> None:
    stack.pg.restart("fast")


BROKER = Fault("kill -9 RabbitMQ", kill_broker)
DATABASE = Fault("restart PostgreSQL (fast)", restart_database)


def every_fault() -> list[Fault]:
    return [*(kill_service(name) for name in (*SERVICES, "telephony")), BROKER, DATABASE]


def short_faults() -> list[Fault]:
    return [kill_service("contacts"), BROKER, DATABASE]


@dataclass
class Outcome:
    fault: str
    calls: int
    # Calls the edge answered that never rang and ended: refused (503) or timed out (408) while down.
    calls_not_rung: int
    calls_lost: int
    calls_doubled: int
    forms: int
    forms_lost: int
    forms_doubled: int
    forms_refused_but_stored: int
    recovered_seconds: float | None

    @property
    def clean(self) -> bool:
        recovered = self.recovered_seconds is not None and self.recovered_seconds <= RECOVERY_BOUND
        return recovered and not (
            self.calls_lost or self.calls_doubled or self.forms_lost or self.forms_doubled
            or self.forms_refused_but_stored
        )  # fmt: skip


def run_fault(stack: FaultStack, fault: Fault, *, rate: float, seconds: float, form_rate: float) -> Outcome:
    calls = CallLoad(stack.edge, stack.tmp / fault.name.replace(" ", "_"), rate, seconds).start()
    forms = FormLoad(f"http://127.0.0.1:{stack.ports['web_form']}", form_rate).start()
    try:
        # The fault lands once the load flows: forms are being stored and calls are being filed.
        wait_for(lambda: len(forms.accepted()) >= 3, timeout=30, what="forms accepted before the fault")
        wait_for(lambda: len(filed(stack.database_url, calls.prefix)) >= 2, timeout=30, what="calls filed")
        struck = time.monotonic()
        fault.inject(stack)
        recovered = recovery(stack, forms, struck)
        ended, answered = calls.finish(timeout=seconds + 120)
    finally:
        forms.stop()
        if calls.process.poll() is None:
            calls.process.kill()
    accepted = forms.accepted()
    refused = set(forms.answers) - accepted

    def settled() -> bool:
        have_calls, have_forms = (
            filed(stack.database_url, calls.prefix),
            stored(stack.database_url, forms.prefix),
        )
        return ended <= set(have_calls) and accepted <= set(have_forms)

    try:
        wait_for(settled, timeout=SETTLE_SECONDS, interval=0.5, what="ended calls and accepted forms stored")
    except Timeout:
        pass  # what is missing now is counted lost below
    have_calls, have_forms = filed(stack.database_url, calls.prefix), stored(stack.database_url, forms.prefix)
    return Outcome(
        fault=fault.name,
        calls=len(ended),
        calls_not_rung=len(answered - ended),
        calls_lost=len(ended - set(have_calls)),
        calls_doubled=sum(1 for n in have_calls.values() if n > 1),
        forms=len(accepted),
        forms_lost=len(accepted - set(have_forms)),
        forms_doubled=sum(1 for n in have_forms.values() if n > 1),
        forms_refused_but_stored=len(refused & set(have_forms)),
        recovered_seconds=recovered,
    )


def recovery(stack: FaultStack, forms: FormLoad, struck: float) -> float | None:
    """Seconds from the fault until every service answers and a form sent after it is accepted."""
    seen = len(forms.answers)

    def back() -> bool:
        answering = all(stack.answering(name) for name in (*SERVICES, "telephony"))
        later = list(forms.answers.values())[seen:]
        return answering and any(status in (200, 201) for status in later)

    try:
        wait_for(back, timeout=RECOVERY_BOUND * 2, interval=0.1, what="the stack to serve again")
    except Timeout:
        return None
    return time.monotonic() - struck


def table(outcomes: list[Outcome]) -> str:
    head = (
        f"{'fault':<28} {'calls':>5} {'unrung':>6} {'lost':>4} {'dup':>4} {'forms':>5} {'lost':>4} {'dup':>4} "
        f"{'ghost':>5} {'recover s':>9}"
    )
    rows = [head, "-" * len(head)]
    for o in outcomes:
        recovered = f"{o.recovered_seconds:.1f}" if o.recovered_seconds is not None else "never"
        rows.append(
            f"{o.fault:<28} {o.calls:>5} {o.calls_not_rung:>6} {o.calls_lost:>4} {o.calls_doubled:>4} {o.forms:>5} "
            f"{o.forms_lost:>4} {o.forms_doubled:>4} {o.forms_refused_but_stored:>5} {recovered:>9}"
        )
    return "\n".join(rows)


def run(faults: list[Fault], *, rate: float, seconds: float, form_rate: float) -> list[Outcome]:
    stack = FaultStack().start()
    outcomes = []
    try:
        for fault in faults:
            outcomes.append(run_fault(stack, fault, rate=rate, seconds=seconds, form_rate=form_rate))
            print(table(outcomes[-1:]).splitlines()[-1], flush=True)
    finally:
        stack.close()
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--short", action="store_true", help="a lower rate and three faults")
    parser.add_argument("--rate", type=float, default=0, help="calls a second (default 20, 5 with --short)")
    parser.add_argument("--seconds", type=float, default=0, help="seconds of load per fault")
    args = parser.parse_args(argv)
    rate = args.rate or (5 if args.short else 20)
    seconds = args.seconds or (12 if args.short else 30)
    faults = short_faults() if args.short else every_fault()
    load_before = os.getloadavg()[0]
    outcomes = run(faults, rate=rate, seconds=seconds, form_rate=2 if args.short else 5)
    print(f"\n{rate:g} calls/s and web forms; recovery bound {RECOVERY_BOUND:g} s; "
          f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")  # fmt: skip
    print(table(outcomes))
    bad = [o.fault for o in outcomes if not o.clean]
    if bad:
        print("lost, doubled or slow to recover: " + ", ".join(bad), file=sys.stderr)
        return 1
    return 0
