"""The steady load a fault lands in: sipp calls through the edge, and web forms sent one after another.

What each side saw is the truth the checks hold the database to: a call sipp saw ring (180 from
telephony) and end (487 after its CANCEL) must be filed once; a form the web form accepted (201/200)
must be stored once, and one it did not accept must not be stored at all.
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import requests

from services.cli.call import CallPlan, scenario, sipp_command

TRACE_HEAD = re.compile(r"^-{10,} \d{4}-\d{2}-\d{2}\s+\d{2}:\d{2}:\d{2}")


def ended_calls(trace: Path) -> tuple[set[str], set[str]]:
    """Call-IDs that sipp saw ring and then end, and every Call-ID it had an answer for, from its
    -trace_msg log."""
    answered: set[str] = set()
    rang: set[str] = set()
    ended: set[str] = set()
    block: list[str] = []

    def close(lines: list[str]) -> None:
        if not lines or "message received" not in lines[0]:
            return
        status = next((line for line in lines if line.startswith("SIP/2.0 ")), "")
        call_id = next(
            (line.split(":", 1)[1].strip() for line in lines if line.lower().startswith("call-id:")), ""
        )
        cseq = next((line for line in lines if line.lower().startswith("cseq:")), "")
        if not call_id or "INVITE" not in cseq:
            return
        answered.add(call_id)
        if status.startswith("SIP/2.0 180"):
            rang.add(call_id)
        elif status.startswith("SIP/2.0 487"):
            ended.add(call_id)

    for line in trace.read_text(errors="replace").splitlines():
        if TRACE_HEAD.match(line):
            close(block)
            block = []
        else:
            block.append(line) if block or line.strip() else None
    close(block)
    return rang & ended, answered


@dataclass
class CallLoad:
    """`rate` calls a second for `seconds` through the edge, each ringing for a second and then cancelled."""

    edge: str
    workdir: Path
    rate: float
    seconds: float
    prefix: str = field(default_factory=lambda: f"fault-{uuid.uuid4().hex[:8]}")
    process: subprocess.Popen | None = None

    def start(self) -> CallLoad:
        self.workdir.mkdir(parents=True, exist_ok=True)
        plan = CallPlan(number="+16145550123", extension="1001", cancel_after=1.0, call_id=self.prefix)
        scenario_file = self.workdir / "calls.xml"
        scenario_file.write_text(scenario(plan))
        calls = int(self.rate * self.seconds)
        command = sipp_command(
            plan, scenario_file=str(scenario_file), edge=self.edge, calls=calls, rate=self.rate
        )
        command += ["-trace_msg", "-message_file", str(self.trace)]
        self.process = subprocess.Popen(
            command, cwd=self.workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        return self

    @property
    def trace(self) -> Path:
        return self.workdir / "trace.log"

    def finish(self, timeout: float) -> tuple[set[str], set[str]]:
        """Wait for sipp; the calls that rang and ended, and every call the edge answered. sipp's own exit
        code is not the check: calls refused while a service was down are not calls that ended, and are
        counted apart."""
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            self.process.wait(10)
        return ended_calls(self.trace) if self.trace.exists() else (set(), set())


def filed(database_url: str, prefix: str) -> Counter:
    """Call-ID -> how many contacts carry it (more than one would be a call filed twice)."""
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT call_id, count(*) FROM contacts.contact WHERE call_id LIKE %s GROUP BY call_id",
            (prefix + "-%",),
        ).fetchall()
    return Counter({call_id: n for call_id, n in rows})


FORM = {
    "topic": "complaint",
    "name": "Jane Roe",
    "email": "jane.roe@example.com",
    "product": "Crunchy Oat Clusters",
    "sku": "COC-500",
}


@dataclass
class FormLoad:
    """Web forms sent one after another at about `rate` a second, each with a mark of its own."""

    url: str
    rate: float
    prefix: str = field(default_factory=lambda: f"form{uuid.uuid4().hex[:8]}")
    answers: dict[str, int | None] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> FormLoad:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def send_one(self, session: requests.Session) -> int | None:
        mark = f"{self.prefix}n{len(self.answers)}"
        try:
            reply = session.post(
                self.url + "/intake",
                json={**FORM, "message": f"A piece of plastic in the box, {mark}."},
                headers={"Accept": "application/json"},
                timeout=5,
            )
            status = reply.status_code
        except requests.RequestException:
            status = None
        self.answers[mark] = status
        return status

    def _run(self) -> None:
        with requests.Session() as session:
            while not self._stop.is_set():
                started = time.monotonic()
                self.send_one(session)
                self._stop.wait(max(0.0, 1 / self.rate - (time.monotonic() - started)))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def accepted(self) -> set[str]:
        return {mark for mark, status in self.answers.items() if status in (200, 201)}


def stored(database_url: str, prefix: str) -> Counter:
    """Form mark -> how many contacts hold it."""
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT substring(verbatim FROM %s), count(*) FROM contacts.contact "
            "WHERE verbatim LIKE %s GROUP BY 1",
            (f"({prefix}n[0-9]+)", f"%{prefix}n%"),
        ).fetchall()
    return Counter({mark: n for mark, n in rows})
