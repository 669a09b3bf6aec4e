"""Check, within a second or two, that PostgreSQL and RabbitMQ answer; say what to start if not.

Uses only the standard library: it runs before the virtualenv exists.
"""

import os
import socket
import sys
from urllib.parse import urlsplit

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/crs"
DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"

ADVICE = {
    "PostgreSQL": (
        "start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n"
        "  or install it with: apt-get install postgresql  (or point CRS_DATABASE_URL at a server)"
    ),
    "RabbitMQ": (
        "start it with: rabbitmq-server -detached\n"
        "  or install it with: apt-get install rabbitmq-server  (or point CRS_AMQP_URL at a broker)"
    ),
}


def reachable(url: str, default_port: int, timeout: float = 2.0) -> tuple[bool, str]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or default_port
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True, f"{host}:{port}"
    except OSError as exc:
        return False, f"{host}:{port} ({exc.strerror or exc})"


def main() -> int:
    checks = [
        ("PostgreSQL", os.environ.get("CRS_DATABASE_URL", DEFAULT_DATABASE_URL), 5432),
        ("RabbitMQ", os.environ.get("CRS_AMQP_URL", DEFAULT_AMQP_URL), 5672),
    ]
    failed = False
    for name, url, port in checks:
        ok, where = reachable(url, port)
        if not ok:
            failed = True
            print(f"CRS needs {name}, which does not answer at {where}.\n  {ADVICE[name]}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
