"""Two telephony replicas behind the edge's dispatcher: one is killed -9 under a steady stream of calls."""

from __future__ import annotations

import contextlib
import statistics
import subprocess
import tempfile
import time
from datetime import datetime
from pathlib import Path

import pytest

from services.cli.call import CallPlan, free_udp_port, scenario, sipp_command
from tests.integration.telephony.stack import BusListener, start_edge, start_telephony
from tests.support.wait import Timeout, wait_for

pytestmark = pytest.mark.sip

RATE = 20
CALLS = 400
KILL_AFTER_ENDED = 100


def event_time(event: dict) -> float:
    return datetime.fromisoformat(event["time"].replace("Z", "+00:00")).timestamp()


def test_calls_fail_over_to_the_surviving_replica_after_a_kill(tmp_path, amqp_url):
    ports = [free_udp_port(), free_udp_port()]
    while ports[0] == ports[1]:
        ports[1] = free_udp_port()
    targets = ",".join(f"127.0.0.1:{port}" for port in ports)
    edge_process, edge = start_edge(tmp_path, CRS_SIP_EDGE_TELEPHONY_TARGETS=targets)
    replicas = []
    bus = BusListener(amqp_url)
    try:
        for index, port in enumerate(ports):
            low = 20000 + index * 1000 + (port % 10) * 50
            replicas.append(
                start_telephony(
                    tmp_path,
                    amqp_url=amqp_url,
                    edge=edge,
                    CRS_SIP_PORT=str(port),
                    CRS_RTP_PORT_LOW=str(low),
                    CRS_RTP_PORT_HIGH=str(low + 999),
                )
            )
        plan = CallPlan(number="+16145550123", extension="1001", seconds=1)
        with tempfile.TemporaryDirectory(prefix="crs-replicas-") as workdir:
            scenario_file = Path(workdir) / "call.xml"
            scenario_file.write_text(scenario(plan))
            command = sipp_command(plan, scenario_file=str(scenario_file), edge=edge, calls=CALLS, rate=RATE)
            started = time.time()
            sipp = subprocess.Popen(
                command,
                cwd=workdir,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                stdin=subprocess.DEVNULL,
            )
            try:
                wait_for(
                    lambda: len([e for e in bus.poll() if e["type"] == "call_ended"]) >= KILL_AFTER_ENDED,
                    timeout=60,
                    what=f"{KILL_AFTER_ENDED} calls ended before the kill",
                )
                victim = replicas[0].process.popen
                victim.kill()
                killed_at = time.time()
                victim.wait()
                sipp.wait(timeout=120)
            finally:
                if sipp.poll() is None:
                    sipp.kill()
                    sipp.wait()
        call_ids = [f"{plan.call_id}-{n}" for n in range(1, CALLS + 1)]

        def accounted_for() -> bool:
            return all(
                bus.of_call(c, "call_ended")
                or (
                    bus.of_call(c, "call_ringing")
                    and event_time(bus.of_call(c, "call_ringing")[0]) < killed_at
                )
                for c in call_ids
            )

        # On a timeout the assertions below name what is missing.
        with contextlib.suppress(Timeout):
            wait_for(accounted_for, timeout=30, what="every call ended, or in progress on the killed replica")
        never_rang = [c.rsplit("-", 1)[1] for c in call_ids if not bus.of_call(c, "call_ringing")]
        assert never_rang == [], f"calls lost: {never_rang} (killed {killed_at - started:.1f} s in)"
        ringing = {c: event_time(bus.of_call(c, "call_ringing")[0]) for c in call_ids}
        ended = {c for c in call_ids if bus.of_call(c, "call_ended")}
        interrupted = [c for c in call_ids if c not in ended]
        # What a new call waits beyond the usual: its INVITE's arrival at a replica against sipp's pacing.
        lag = {n: ringing[c] - (started + (n - 1) / RATE) for n, c in enumerate(call_ids, start=1)}
        usual = statistics.median(v for n, v in lag.items() if ringing[call_ids[n - 1]] < killed_at)
        after_kill = [v - usual for n, v in lag.items() if ringing[call_ids[n - 1]] >= killed_at]
        failover = max(after_kill)
        print(
            f"\nreplica killed -9 at {killed_at - started:.1f} s into {CALLS} calls at {RATE}/s: "
            f"{len(interrupted)} in progress on it, {len(after_kill)} rang after the kill, all of them ended; "
            f"failover time (longest extra wait of a new call) {failover * 1000:.0f} ms"
        )
        assert all(ringing[c] < killed_at for c in interrupted)
        assert len(ended) + len(interrupted) == CALLS
        assert len(after_kill) > CALLS / 4
        assert replicas[1].process.alive()
        wait_for(replicas[1].idle, timeout=20, what="the surviving replica to hold no call")
    finally:
        bus.close()
        for replica in replicas[1:]:
            replica.process.stop()
        if replicas:
            replicas[0].process.log_file.close()
        edge_process.stop()
