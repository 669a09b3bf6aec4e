"""The SIP edge: kamailio in the foreground with the repository's config, `python -m services.telephony.edge`.

Listen address and port come from CRS_SIP_EDGE_BIND and CRS_SIP_EDGE_PORT; runtime files go to a temp
directory removed on exit. SIGTERM and SIGINT are passed on to kamailio, whose exit status is ours.
With CRS_SIP_EDGE_TELEPHONY_TARGETS (a comma list of host:port, one per telephony replica) calls are
spread over the replicas by kamailio's dispatcher, which probes them with OPTIONS and fails over; without
it the edge sends every call to the one telephony process registered with it.
The digest passwords and the trunk list reach kamailio through its environment (the config reads them
with `$env`), never through its command line, which any local user can read.
"""

from __future__ import annotations

import ipaddress
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from services.runtime.settings import env, env_int

CONFIG = Path(__file__).resolve().parents[2] / "edge" / "kamailio" / "kamailio.cfg"


def kamailio_command(*, runtime_dir: str) -> list[str]:
    """The kamailio command line for the settings in the environment."""
    binary = env("CRS_KAMAILIO", "/usr/sbin/kamailio")
    host = env("CRS_SIP_EDGE_BIND", "127.0.0.1")
    port = env_int("CRS_SIP_EDGE_PORT", 5060)
    return [
        binary,
        "-f", str(CONFIG),
        "-DD", "-E",
        "-m", str(env_int("CRS_SIP_EDGE_SHM_MB", 32)),
        "-M", "4",
        "-Y", runtime_dir,
        "-P", str(Path(runtime_dir) / "kamailio.pid"),
        "-w", runtime_dir,
        "-l", f"udp:{host}:{port}",
        "-A", f'EDGE_ALIAS="{host}:{port}"',
        "-A", f'TELEPHONY_USER="{env("CRS_SIP_USERNAME", "crs-telephony")}"',
        "-A", f"PIKE_DENSITY={env_int('CRS_SIP_EDGE_PIKE_DENSITY', 40)}",
        "-A", f"AUTH_FAILURES={env_int('CRS_SIP_EDGE_AUTH_FAILURES', 5)}",
        "-A", f'AUTH_FAIL_TABLE="authfail=>size=10;autoexpire={env_int("CRS_SIP_EDGE_AUTH_BLOCK_SECONDS", 300)};"',
        "-A", f"MAX_MESSAGE={env_int('CRS_SIP_EDGE_MAX_MESSAGE', 8192)}",
        *dispatcher_arguments(runtime_dir),
    ]  # fmt: skip


def telephony_targets(text: str) -> list[str]:
    """The replicas' SIP addresses as dispatcher URIs; a malformed entry stops the edge."""
    targets = []
    for item in text.replace(" ", "").split(","):
        if not item:
            continue
        host, _, port = item.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise SystemExit(f"CRS_SIP_EDGE_TELEPHONY_TARGETS: {item!r} is not host:port")
        targets.append(f"sip:{host}:{port}")
    return targets


def dispatcher_arguments(runtime_dir: str) -> list[str]:
    """The defines that turn the dispatcher on, with its list file written; none for a single target."""
    targets = telephony_targets(env("CRS_SIP_EDGE_TELEPHONY_TARGETS", ""))
    if not targets:
        return []
    list_file = Path(runtime_dir) / "dispatcher.list"
    # setid 1 is the telephony replicas; flags 0 (active until a probe says otherwise), priority 0.
    list_file.write_text("".join(f"1 {target} 0 0\n" for target in targets))
    return [
        "-A", "WITH_DISPATCHER",
        "-A", f'DISPATCHER_LIST="{list_file}"',
        "-A", f"DS_PING_INTERVAL={env_int('CRS_SIP_EDGE_PROBE_SECONDS', 1)}",
        "-A", f"DS_INVITE_TIMEOUT={env_int('CRS_SIP_EDGE_REPLICA_TIMEOUT_MS', 1500)}",
    ]  # fmt: skip


def kamailio_environment() -> dict[str, str]:
    """What kamailio is given to read with `$env`: the credentials and the trust boundary, nothing else."""
    password = env("CRS_SIP_PASSWORD", "")
    if not password:
        raise SystemExit("CRS_SIP_PASSWORD is not set: the edge would accept no registration")
    return {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "CRS_SIP_PASSWORD": password,
        "CRS_SIP_TRUNKS": normalised_trunks(env("CRS_SIP_TRUNKS", "127.0.0.1/32")),
        "CRS_SIP_PEER_USERNAME": env("CRS_SIP_PEER_USERNAME", ""),
        "CRS_SIP_PEER_PASSWORD": env("CRS_SIP_PEER_PASSWORD", ""),
    }


def normalised_trunks(text: str) -> str:
    """The trunk list as kamailio's `is_in_subnet` reads it; a malformed entry stops the edge."""
    networks = []
    for item in text.replace(" ", "").split(","):
        if not item:
            continue
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise SystemExit(f"CRS_SIP_TRUNKS: {item!r} is not an address or CIDR network") from None
    return ",".join(networks)


def main() -> int:
    runtime_dir = tempfile.mkdtemp(prefix="crs-edge-")
    try:
        command = kamailio_command(runtime_dir=runtime_dir)
        if not Path(command[0]).exists():
            print(f"kamailio not found at {command[0]}: install Debian's 'kamailio' package", file=sys.stderr)
            return 2
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, env=kamailio_environment())

        def forward(signum, _frame):
            process.send_signal(signal.SIGTERM if signum == signal.SIGINT else signum)

        signal.signal(signal.SIGTERM, forward)
        signal.signal(signal.SIGINT, forward)
        code = process.wait()
        # kamailio exits 0 on SIGTERM, or with -SIGTERM when a child saw it first: both are a clean stop.
        return 0 if code in (0, -signal.SIGTERM) else code
    finally:
        shutil.rmtree(runtime_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
