"""Every service of the call and intake paths as processes, on a PostgreSQL and a RabbitMQ of their own.

The fault suite kills what it runs: the machine's shared PostgreSQL and RabbitMQ are never used, so a
private cluster (tests/support/private_pg.py) and a private node (tests/support/broker.py) stand in for
them, on free ports in temporary directories.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from services.console.seed import seed_demo
from services.runtime import migrate
from tests.integration.telephony.stack import Telephony, start_edge, start_telephony
from tests.support.broker import PrivateBroker
from tests.support.private_pg import PrivatePostgres
from tests.support.processes import ServiceProcess, free_port, listening
from tests.support.wait import wait_for

# The services of the path, in the order they start; each is killed in turn by the suite.
SERVICES = ("contacts", "billing", "screenpop", "console", "channels")


@dataclass
class FaultStack:
    tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="crs-faults-")))
    pg: PrivatePostgres | None = None
    broker: PrivateBroker | None = None
    env: dict[str, str] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    processes: dict[str, ServiceProcess] = field(default_factory=dict)
    telephony: Telephony | None = None
    edge_process: object = None
    edge: str = ""
    database_url: str = ""

    def start(self) -> FaultStack:
        self.pg = PrivatePostgres().init().start()
        self.database_url = self.pg.database("crs")
        migrate.migrate_all(self.database_url)
        seed_demo(self.database_url)
        self.broker = PrivateBroker().start()
        self.ports = {name: free_port() for name in (*SERVICES, "contacts_http", "web_form", "channels_grpc")}
        env = dict(os.environ)
        env.pop("CRS_TLS_IDENTITY", None)
        env.update(
            CRS_DATABASE_URL=self.database_url,
            CRS_AMQP_URL=self.broker.url,
            CRS_LOG_LEVEL="INFO",
            CRS_CONTACTS_GRPC=f"127.0.0.1:{self.ports['contacts']}",
            CRS_CONTACTS_HTTP=f"127.0.0.1:{self.ports['contacts_http']}",
            CRS_BILLING_GRPC=f"127.0.0.1:{self.ports['billing']}",
            CRS_FULFILLMENT_GRPC=f"127.0.0.1:{free_port()}",
            CRS_SCREENPOP_GRPC=f"127.0.0.1:{self.ports['screenpop']}",
            CRS_CONSOLE_HTTP=f"127.0.0.1:{self.ports['console']}",
            CRS_KNOWLEDGE_GRPC=f"127.0.0.1:{free_port()}",
            CRS_CHANNELS_GRPC=f"127.0.0.1:{self.ports['channels_grpc']}",
            CRS_CHANNELS_SMTP_BIND=f"127.0.0.1:{free_port()}",
            CRS_CHANNELS_SINK_BIND=f"127.0.0.1:{free_port()}",
            CRS_CHANNELS_SINK_DIR=str(self.tmp / "sink"),
            CRS_CHANNELS_CHAT_BIND=f"127.0.0.1:{free_port()}",
            CRS_CHANNELS_CHAT_DEMO_BIND=f"127.0.0.1:{free_port()}",
            CRS_CHANNELS_WEB_FORM_BIND=f"127.0.0.1:{self.ports['web_form']}",
            # The load is one client sending many forms: the limit is not what is under test.
            CRS_CHANNELS_WEB_FORM_BURST="1000000",
            CRS_CHANNELS_WEB_FORM_PER_MINUTE="1000000",
            CRS_CHANNELS_EMAIL_ACK="0",
            CRS_RECORDINGS_URL=(self.tmp / "recordings").as_uri(),
        )
        for service in (*SERVICES, "telephony", "fulfillment"):
            env[f"CRS_{service.upper()}_METRICS_PORT"] = "0"
        self.env = env
        for name in SERVICES:
            self.start_service(name)
        self.edge_process, self.edge = start_edge(self.tmp, pike_density=100_000)
        self.start_telephony()
        return self

    def port_of(self, name: str) -> int:
        return self.ports["web_form" if name == "channels" else name]

    def start_service(self, name: str) -> None:
        self.processes[name] = ServiceProcess(f"services.{name}", self.env).start(
            wait_port=self.port_of(name), timeout=60
        )

    def start_telephony(self) -> None:
        # Telephony is told to answer late, so each call rings and is cancelled: the load is the pop and
        # the filing, not recorded audio. Its spool outlives a restart, as a deployment's would.
        self.telephony = start_telephony(
            self.tmp,
            amqp_url=self.broker.url,
            edge=self.edge,
            CRS_ANSWER_DELAY_SECONDS="30",
            CRS_TELEPHONY_EVENT_SPOOL=str(self.tmp / "telephony-unsent.jsonl"),
            CRS_LOG_LEVEL="WARNING",
        )

    def kill(self, name: str) -> None:
        """kill -9: no drain, no goodbye."""
        if name == "telephony":
            self.telephony.process.popen.send_signal(signal.SIGKILL)
            self.telephony.process.popen.wait(10)
            return
        process = self.processes[name].process
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def restart(self, name: str) -> None:
        if name == "telephony":
            self.start_telephony()
        else:
            self.start_service(name)

    def answering(self, name: str) -> bool:
        if name == "telephony":
            return self.telephony.process.alive()
        return listening(self.port_of(name))

    def pids(self) -> dict[str, int]:
        found = {name: p.process.pid for name, p in self.processes.items()}
        found["telephony"] = self.telephony.process.popen.pid
        return found

    def close(self) -> None:
        for process in reversed(list(self.processes.values())):
            if process.process.poll() is None:
                process.process.send_signal(signal.SIGTERM)
        if self.telephony is not None:
            self.telephony.process.stop()
        if self.edge_process is not None:
            self.edge_process.stop()
        deadline = time.monotonic() + 20
        for process in self.processes.values():
            try:
                process.process.wait(max(0.1, deadline - time.monotonic()))
            except Exception:
                process.process.kill()
        if self.broker is not None:
            self.broker.close()
        if self.pg is not None:
            self.pg.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def wait_answering(self, name: str, timeout: float) -> None:
        wait_for(lambda: self.answering(name), timeout=timeout, what=f"{name} to answer again")
