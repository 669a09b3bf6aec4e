"""`python -m services.fulfillment.worker`: the nameko process that runs the fulfillment workflows.

nameko 2.14 runs on eventlet, so this process is kept apart from every asyncio one: no grpcio here
(it freezes under eventlet), only PostgreSQL (blocking psycopg, cooperative with `wait_select`) and
RabbitMQ (nameko's own kombu). Everything it does to another service goes through an event.
"""

from __future__ import annotations

import os

# psycopg 3 blocks the whole eventlet hub unless it waits with select(), which eventlet patches.
os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")

import eventlet

eventlet.monkey_patch()

import logging  # noqa: E402
import signal  # noqa: E402

from nameko.runners import ServiceRunner  # noqa: E402

from services.fulfillment.workflows.service import WorkerSettings, build_service  # noqa: E402
from services.runtime import logs  # noqa: E402
from services.runtime.metrics import start_metrics_server  # noqa: E402
from services.runtime.settings import Common, env, env_float, env_int  # noqa: E402

log = logging.getLogger("services.fulfillment.worker")


def settings_from_env(common: Common) -> WorkerSettings:
    return WorkerSettings(
        database_url=common.database_url,
        pool_size=env_int("CRS_FULFILLMENT_WORKER_DB_POOL_SIZE", 10),
        sweep_seconds=env_float("CRS_FULFILLMENT_SWEEP_SECONDS", 30.0),
        escalate_after_seconds=env_float("CRS_FULFILLMENT_ESCALATE_AFTER_SECONDS", 4 * 3600.0),
        stalled_after_seconds=env_float("CRS_FULFILLMENT_STALLED_AFTER_SECONDS", 60.0),
        carrier=env("CRS_FULFILLMENT_CARRIER", "demo"),
        batch_size=env_int("CRS_FULFILLMENT_WORKER_BATCH", 50),
    )


def main() -> None:
    common = Common.from_env()
    logs.configure("fulfillment-worker", common.log_level)
    start_metrics_server(env_int("CRS_FULFILLMENT_WORKER_METRICS_PORT", 9107))
    runner = ServiceRunner(
        {
            "AMQP_URI": common.amqp_url,
            # Also the broker's prefetch, and so how many requests a batch can gather.
            "max_workers": env_int("CRS_FULFILLMENT_WORKER_CONCURRENCY", 50),
            "serializer": "json",
        }
    )
    runner.add_service(build_service(settings_from_env(common)))

    def on_signal(signum, frame):
        # Stop in a green thread: the handler must return for the hub to run the stop.
        log.info("stopping: finishing the steps in hand")
        eventlet.spawn_n(runner.stop)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    runner.start()
    log.info("fulfillment workflows running")
    runner.wait()
    log.info("fulfillment-worker stopped")


if __name__ == "__main__":
    main()
