"""`make soak`: every service of the call path and the web form under steady load, watched for growth.

    .venv/bin/python scripts/soak.py                       # 30 minutes at 20 calls/s (SOAK_MINUTES, SOAK_RATE)
    .venv/bin/python scripts/soak.py --minutes 5 --hostile

Calls are answered and recorded (sipp plays G.711 for 2 s), each pops on ada's socket, a web form is
posted every second, and with --hostile the SIP and RTP corpus of tests/sip/hostile.py is sprayed
beside them. It prints each process's RSS and open files over time, and exits 1 when one grew beyond the
bound of tests/support/resources.py over the second half, when more than 1% of calls did not pop, or
when a form was not stored.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pathlib
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from services.console.seed import seed_demo
from tests.support import infra, soak


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=float(os.environ.get("SOAK_MINUTES", 30)))
    parser.add_argument("--rate", type=float, default=float(os.environ.get("SOAK_RATE", 20)))
    parser.add_argument("--forms", type=float, default=1.0, help="web forms posted per second")
    parser.add_argument("--hostile", action="store_true", default=os.environ.get("SOAK_HOSTILE") == "1")
    args = parser.parse_args()
    os.environ.setdefault("CRS_TLS_DIR", str(_pki()))
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="crs-soak-"))
    with infra.migrated_database("crs_soak") as url, infra.own_vhost("crs-soak") as amqp_url:
        seed_demo(url)
        stack = soak.start_stack(url, amqp_url, workdir)
        try:
            result = asyncio.run(
                soak.run(
                    stack, workdir, seconds=args.minutes * 60, rate=args.rate, forms_per_second=args.forms,
                    hostile=args.hostile, sample_every=max(2.0, args.minutes * 60 / 180),
                )
            )  # fmt: skip
        finally:
            stopped = stack.stop()
    print(result.report())
    print(f"load average {os.getloadavg()[0]:.1f} at the end; work directory {workdir}")
    failures = result.failures() + stopped
    if failures:
        print("SOAK FAILED:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    print("soak passed")
    return 0


def _pki() -> pathlib.Path:
    from services.runtime import tls

    return tls.ensure_development_pki(pathlib.Path(tempfile.mkdtemp(prefix="crs-soak-pki-")) / "pki")


if __name__ == "__main__":
    sys.exit(main())
