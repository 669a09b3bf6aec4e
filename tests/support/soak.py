"""A soak: every service of the call path and the web form under steady load, sampled for growth.

The load: answered calls through the SIP edge to a recorded extension (sipp plays G.711 audio, so the
recorder writes a WAV per call), an agent's socket that counts each call's pop, web forms posted as JSON
to the intake, and, when asked, the hostile SIP and RTP corpus (tests/sip/hostile.py) beside them. Each
process's RSS and open descriptors are sampled throughout (tests/support/resources.py states the bound).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from services.cli.call import CallPlan, scenario, sipp_command
from tests.integration.telephony.stack import start_edge, start_telephony
from tests.sip.hostile import Sprayer
from tests.support import resources
from tests.support.processes import ServiceProcess, free_port, listening
from tests.support.wait import wait_for

EXTENSION = "1001"  # recorded (CRS_RECORD_EXTENSIONS), and ada's: her socket gets the pops
FORM = {
    "topic": "complaint",
    "name": "Jane Roe",
    "email": "jane.roe@example.com",
    "product": "Crunchy Oat Clusters",
    "message": "The bag was half empty when I opened it this morning.",
}
SETTLE_SECONDS = 10.0


@dataclass
class Stack:
    base: str
    form: str
    edge: str
    media: range
    pids: dict[str, int]
    started: list = field(default_factory=list)

    def stop(self) -> list[str]:
        problems = []
        for process in reversed(self.started):
            try:
                code = process.stop()
                if code not in (0, None):
                    problems.append(
                        f"{getattr(process, 'name', getattr(process, 'module', '?'))} exited {code}"
                    )
            except AssertionError as exc:
                problems.append(str(exc)[:2000])
        return problems


def start_stack(database_url: str, amqp_url: str, workdir: Path) -> Stack:
    """contacts, billing, fulfillment, screenpop, console, channels, the edge and telephony, as processes."""
    names = (
        "contacts",
        "contacts_http",
        "billing",
        "fulfillment",
        "screenpop",
        "console",
        "channels",
        "form",
    )
    ports = {name: free_port() for name in names}
    env = dict(
        os.environ,
        CRS_DATABASE_URL=database_url,
        CRS_AMQP_URL=amqp_url,
        CRS_LOG_LEVEL="WARNING",
        CRS_CONTACTS_GRPC=f"127.0.0.1:{ports['contacts']}",
        CRS_CONTACTS_HTTP=f"127.0.0.1:{ports['contacts_http']}",
        CRS_BILLING_GRPC=f"127.0.0.1:{ports['billing']}",
        CRS_FULFILLMENT_GRPC=f"127.0.0.1:{ports['fulfillment']}",
        CRS_SCREENPOP_GRPC=f"127.0.0.1:{ports['screenpop']}",
        CRS_CONSOLE_HTTP=f"127.0.0.1:{ports['console']}",
        CRS_RECORDINGS_URL=(workdir / "recordings").as_uri(),
        CRS_CHANNELS_GRPC=f"127.0.0.1:{ports['channels']}",
        CRS_CHANNELS_WEB_FORM_BIND=f"127.0.0.1:{ports['form']}",
        # The soak is about growth, not the limit: one client may post every form.
        CRS_CHANNELS_WEB_FORM_BURST="1000000",
        CRS_CHANNELS_WEB_FORM_PER_MINUTE="1000000",
        CRS_KNOWLEDGE_GRPC=f"127.0.0.1:{free_port()}",  # none: the form is sent without suggestions
        CRS_CHANNELS_SMTP_BIND=f"127.0.0.1:{free_port()}",
        CRS_CHANNELS_SINK_BIND=f"127.0.0.1:{free_port()}",
        CRS_CHANNELS_SINK_DIR=str(workdir / "sink"),
        CRS_CHANNELS_CHAT_BIND=f"127.0.0.1:{free_port()}",
        CRS_CHANNELS_CHAT_DEMO_BIND=f"127.0.0.1:{free_port()}",
    )
    env.pop("CRS_TLS_IDENTITY", None)
    for service in ("contacts", "telephony", "screenpop", "fulfillment", "billing", "console", "channels"):
        env[f"CRS_{service.upper()}_METRICS_PORT"] = "0"
    stack = Stack("", "", "", range(0), {})
    try:
        for name in ("contacts", "billing", "fulfillment", "screenpop", "console", "channels"):
            port = ports["form" if name == "channels" else name]
            process = ServiceProcess(f"services.{name}", env).start(wait_port=port, timeout=60)
            stack.started.append(process)
            stack.pids[name] = process.process.pid
        edge, stack.edge = start_edge(workdir, pike_density=100_000)
        stack.started.append(edge)
        stack.pids["edge"] = edge.popen.pid
        telephony = start_telephony(workdir, amqp_url=amqp_url, edge=stack.edge)
        stack.started.append(telephony.process)
        stack.pids["telephony"] = telephony.process.popen.pid
    except BaseException:
        stack.stop()
        raise
    low, high = int(telephony.env["CRS_RTP_PORT_LOW"]), int(telephony.env["CRS_RTP_PORT_HIGH"])
    stack.media = range(low, high + 1)
    stack.base = f"http://127.0.0.1:{ports['console']}"
    stack.form = f"http://127.0.0.1:{ports['form']}"
    wait_for(lambda: listening(ports["console"]), timeout=30, what="the console")
    return stack


@dataclass
class Result:
    seconds: float
    calls: int
    sipp_exit: int
    sipp_said: str
    pops: int
    forms_posted: int
    forms_stored: int
    form_failures: dict[int, int]
    hostile_sip: int
    hostile_rtp: int
    series: dict[str, resources.Series]
    verdicts: list[resources.Verdict]

    @property
    def lost_pops(self) -> int:
        return self.calls - self.pops

    def failures(self, *, lost_share: float = 0.01) -> list[str]:
        found = [failure for verdict in self.verdicts for failure in verdict.failures]
        if self.lost_pops > lost_share * self.calls:
            found.append(f"{self.lost_pops} of {self.calls} calls did not pop (bound {lost_share:.0%})")
        if self.forms_stored != self.forms_posted:
            found.append(f"{self.forms_posted - self.forms_stored} forms not stored: {self.form_failures}")
        if self.forms_posted == 0:
            found.append("no form was posted")
        return found

    def report(self) -> str:
        return "\n".join(
            [
                f"{self.calls} calls in {self.seconds:.0f} s (sipp exit {self.sipp_exit}); {self.pops} pops, "
                f"{self.lost_pops} lost; {self.forms_stored} of {self.forms_posted} forms stored"
                + (
                    f"; hostile datagrams: {self.hostile_sip} SIP, {self.hostile_rtp} RTP"
                    if self.hostile_sip
                    else ""
                ),
                "RSS / open fds over time (each process with its children):",
                resources.table(self.series),
                resources.verdict_table(self.verdicts),
            ]
        )


async def collect_pops(
    base: str,
    seen: set[str],
    prefix: str,
    ready: asyncio.Event,
    stop: asyncio.Event,
    *,
    expected: int,
    complete: asyncio.Event,
) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/api/login", json={"username": "ada", "password": "ada-demo-1001"}) as r:
            token = (await r.json())["token"]
        async with http.ws_connect(
            base.replace("http://", "ws://") + "/ws",
            headers={"Authorization": f"Bearer {token}"},
            heartbeat=20,
        ) as ws:
            ready.set()
            while not stop.is_set():
                try:
                    message = await ws.receive(timeout=0.5)
                except TimeoutError:
                    continue
                if message.type != aiohttp.WSMsgType.TEXT:
                    raise AssertionError(f"the agent's socket closed: {message!r}")
                pop = json.loads(message.data)
                if pop.get("type") == "pop" and pop.get("call_id", "").startswith(prefix):
                    seen.add(pop["call_id"])
                    if len(seen) >= expected:
                        complete.set()


async def post_forms(form: str, per_second: float, stop: asyncio.Event, tally: dict[int, int]) -> None:
    async with aiohttp.ClientSession() as http:
        while not stop.is_set():
            try:
                async with http.post(f"{form}/intake", json=FORM) as response:
                    tally[response.status] = tally.get(response.status, 0) + 1
            except aiohttp.ClientError:
                tally[0] = tally.get(0, 0) + 1
            try:
                await asyncio.wait_for(stop.wait(), 1 / per_second)
            except TimeoutError:
                pass


async def run(
    stack: Stack,
    workdir: Path,
    *,
    seconds: float,
    rate: float,
    forms_per_second: float = 1.0,
    hostile: bool = False,
    sample_every: float = 10.0,
    call_seconds: float = 2.0,
) -> Result:
    calls = max(1, int(rate * seconds))
    prefix = f"soak-{int(time.time())}"
    plan = CallPlan(number="+16145550123", extension=EXTENSION, seconds=call_seconds, call_id=prefix)
    scenario_file = workdir / "soak.xml"
    scenario_file.write_text(scenario(plan))
    command = sipp_command(plan, scenario_file=str(scenario_file), edge=stack.edge, calls=calls, rate=rate)

    pops: set[str] = set()
    tally: dict[int, int] = {}
    ready, stop_pops, stop_forms, complete = (
        asyncio.Event(),
        asyncio.Event(),
        asyncio.Event(),
        asyncio.Event(),
    )
    collector = asyncio.create_task(
        collect_pops(stack.base, pops, prefix, ready, stop_pops, expected=calls, complete=complete)
    )
    await asyncio.wait_for(ready.wait(), 30)
    sampler = resources.Sampler(stack.pids, interval=sample_every).start()
    host, port = stack.edge.split(":")
    sprayer = Sprayer([(host, int(port))], stack.media, pause=0.5).start() if hostile else None
    forms = asyncio.create_task(post_forms(stack.form, forms_per_second, stop_forms, tally))
    started = time.monotonic()
    try:
        sipp = await asyncio.create_subprocess_exec(
            *command, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        said, _ = await sipp.communicate()
        stop_forms.set()
        await forms
        try:
            await asyncio.wait_for(complete.wait(), SETTLE_SECONDS)
        except TimeoutError:
            pass  # what has not popped by now is counted lost
    finally:
        stop_forms.set()
        if sprayer is not None:
            sprayer.stop()
        sampler.stop()
        stop_pops.set()
    await collector
    return Result(
        seconds=time.monotonic() - started,
        calls=calls,
        sipp_exit=sipp.returncode,
        sipp_said=said.decode(errors="replace")[-2000:],
        pops=len(pops),
        forms_posted=sum(tally.values()),
        forms_stored=tally.get(201, 0),
        form_failures={status: n for status, n in tally.items() if status != 201},
        hostile_sip=sprayer.sip_sent if sprayer else 0,
        hostile_rtp=sprayer.rtp_sent if sprayer else 0,
        series=sampler.series,
        verdicts=resources.judge(sampler.series),
    )
