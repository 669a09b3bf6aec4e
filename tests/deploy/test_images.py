"""The container image: how the Dockerfile builds it, what the build context lets in, and its health check.

No Docker engine exists here, so the Dockerfile is read as text; the health check script runs for real
against a real gRPC server.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys

from services.runtime.grpcio import Server
from tests.deploy.codefacts import ROOT, grpc_ports

DOCKERFILE = ROOT / "Dockerfile"
HEALTHCHECK = ROOT / "docker" / "healthcheck.py"
BUILD_TOOLS = re.compile(r"\b(gcc|g\+\+|build-essential|clang|make|grpcio-tools|python3-dev)\b")


def stages() -> dict[str, list[str]]:
    """Each stage's instructions (continuation lines joined), by stage name."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    args = dict(re.findall(r"^ARG (\w+)=(\S+)$", text, re.M))
    result: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = re.match(r"FROM\s+(\S+)(?:\s+AS\s+(\S+))?", line, re.I)
        if match:
            image = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), match.group(1))
            current = match.group(2) or image
            result[current] = [f"FROM {image}"]
        elif current is not None:
            result[current].append(line)
    return result


def test_the_build_is_multi_stage_on_slim_python_and_generates_protobuf_code_in_the_builder():
    found = stages()
    assert found["builder"][0] == "FROM python:3.11-slim"
    assert found["base"][0] == "FROM python:3.11-slim"
    assert any("scripts/gen_protos.py" in line for line in found["builder"] if line.startswith("RUN"))
    assert any(line.startswith("COPY --from=builder /opt/venv") for line in found["base"])
    # The default target (the last stage) is the service image; `edge` adds kamailio to the same base.
    assert list(found)[-1] == "app"
    assert found["app"][0] == "FROM base" and found["edge"][0] == "FROM base"
    assert any("kamailio" in line for line in found["edge"] if line.startswith("RUN"))


def test_the_runtime_stages_install_no_compilers_or_build_tools():
    for name in ("base", "app", "edge"):
        for line in stages()[name]:
            if line.startswith("RUN") and "uninstall" not in line:
                assert not BUILD_TOOLS.search(line), f"{name}: {line}"
    # The code generator is removed before the virtualenv is copied into the runtime image.
    assert any("pip uninstall -y grpcio-tools" in line for line in stages()["builder"])


def test_the_runtime_image_runs_as_a_non_root_user_and_has_a_health_check():
    for name in ("base", "edge"):
        users = [line.split()[1] for line in stages()[name] if line.startswith("USER")]
        assert users, f"{name} sets no USER"
        assert users[-1].split(":")[0] not in ("0", "root"), f"{name} ends as root"
    assert any(line.startswith("HEALTHCHECK") and "healthcheck.py" in line for line in stages()["base"])


def test_the_build_context_lets_in_exactly_what_the_dockerfile_copies():
    ignore = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()]
    rules = [line for line in ignore if line and not line.startswith("#")]
    assert rules[0] == "*", "the context denies everything by default, so no secret or virtualenv slips in"
    allowed = {rule[1:] for rule in rules if rule.startswith("!")}
    for path in ("pyproject.toml", "protos", "scripts/gen_protos.py", "services", "docker/healthcheck.py"):
        assert path in allowed, f"{path} is kept out of the build context"
        assert (ROOT / path).exists(), f"the image needs {path}, which does not exist"
    copied = [line.split()[1] for line in stages()["builder"] if line.startswith("COPY")]
    for source in copied:
        assert source == "." or source in allowed, f"COPY {source} but .dockerignore keeps it out"


async def run_healthcheck(*args: str, env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(HEALTHCHECK),
        *args,
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    return process.returncode, out.decode()


async def test_the_health_check_asks_a_grpc_service_for_its_health_and_fails_once_it_stops():
    server = Server([], "127.0.0.1:0")
    port = await server.start()
    service = sorted(grpc_ports())[0]
    env = {f"CRS_{service.upper()}_GRPC": f"127.0.0.1:{port}"}
    try:
        code, out = await run_healthcheck("--service", service, env=env)
        assert code == 0, out
    finally:
        await server.stop(grace=0)
    code, out = await run_healthcheck("--service", service, env=env)
    assert code == 1 and "unhealthy" in out


async def test_the_health_check_of_a_process_without_grpc_reads_its_metrics_endpoint():
    from prometheus_client import start_http_server

    server, thread = start_http_server(0, addr="127.0.0.1")
    port = server.server_address[1]
    try:
        code, out = await run_healthcheck("--service", "console", env={"CRS_CONSOLE_METRICS_PORT": str(port)})
        assert code == 0, out
    finally:
        server.shutdown()
        thread.join(timeout=5)
    code, _ = await run_healthcheck("--service", "console", env={"CRS_CONSOLE_METRICS_PORT": str(port)})
    assert code == 1
