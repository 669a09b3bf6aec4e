"""schemathesis against the console's JSON API, as its own OpenAPI document describes it, with every
service behind it running for real: no generated request gets a server error."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.console.stack import Process, free_port, wait_ready, wait_serving


@pytest.fixture(scope="module")
async def real_stack(service_env, database_url, tmp_path_factory):
    from services.console.seed import seed_demo

    seed_demo(database_url)
    tmp = tmp_path_factory.mktemp("console-fuzz")
    ports = {
        name: free_port()
        for name in (
            "contacts",
            "http",
            "billing",
            "fulfillment",
            "screenpop",
            "channels",
            "knowledge",
            "insights",
            "outreach",
            "smtp",
            "sink",
            "console",
        )
    }
    env = {
        **service_env,
        "CRS_CONTACTS_GRPC": f"127.0.0.1:{ports['contacts']}",
        "CRS_CONTACTS_HTTP": f"127.0.0.1:{ports['http']}",
        "CRS_BILLING_GRPC": f"127.0.0.1:{ports['billing']}",
        "CRS_FULFILLMENT_GRPC": f"127.0.0.1:{ports['fulfillment']}",
        "CRS_SCREENPOP_GRPC": f"127.0.0.1:{ports['screenpop']}",
        "CRS_CHANNELS_GRPC": f"127.0.0.1:{ports['channels']}",
        "CRS_CHANNELS_SMTP_BIND": f"127.0.0.1:{ports['smtp']}",
        "CRS_CHANNELS_SINK_BIND": f"127.0.0.1:{ports['sink']}",
        "CRS_CHANNELS_SINK_DIR": str(tmp / "mail-sink"),
        "CRS_KNOWLEDGE_GRPC": f"127.0.0.1:{ports['knowledge']}",
        "CRS_INSIGHTS_GRPC": f"127.0.0.1:{ports['insights']}",
        "CRS_OUTREACH_GRPC": f"127.0.0.1:{ports['outreach']}",
        # The routes' contract is the same with or without the embedding model; without it the service
        # trains its first code model in seconds rather than minutes.
        "CRS_KNOWLEDGE_EMBEDDER": "none",
        "CRS_CONSOLE_HTTP": f"127.0.0.1:{ports['console']}",
        "CRS_RECORDINGS_URL": (tmp / "recordings").as_uri(),
    }
    started = []
    names = (
        "contacts",
        "billing",
        "fulfillment",
        "screenpop",
        "channels",
        "knowledge",
        "insights",
        "outreach",
    )
    try:
        for name in names:
            process = Process(f"services.{name}", env, tmp / f"{name}.log")
            started.append(process)
            # Knowledge trains its first code model before it serves.
            await wait_serving(
                env[f"CRS_{name.upper()}_GRPC"], process, timeout=180 if name == "knowledge" else 30
            )
        console = Process("services.console", env, tmp / "console.log")
        started.append(console)
        base = f"http://127.0.0.1:{ports['console']}"
        await wait_ready(base, console)
        yield base, env
    finally:
        errors = []
        for process in reversed(started):
            try:
                process.stop()
            except AssertionError as exc:
                errors.append(str(exc))
        assert not errors, "\n".join(errors)


async def test_no_generated_request_gets_a_server_error(real_stack, tmp_path):
    base, env = real_stack
    issued = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "services.cli.main", "agent", "token", "sam"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert issued.returncode == 0, issued.stderr
    schemathesis = Path(sys.executable).parent / "schemathesis"
    process = await asyncio.create_subprocess_exec(
        str(schemathesis),
        "run",
        f"{base}/api/openapi.json",
        "--header",
        f"Authorization: Bearer {issued.stdout.strip()}",
        "--checks",
        "not_a_server_error",
        "--max-examples",
        "25",
        "--seed",
        "6",
        "--phases",
        "examples,coverage,fuzzing",
        "--request-timeout",
        "10",
        "--generation-database",
        "none",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=tmp_path,
        env={**os.environ, "SCHEMATHESIS_HOOKS": "", "NO_COLOR": "1"},
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=300)
    report = output.decode(errors="replace")
    assert process.returncode == 0, report[-6000:]
    cases = re.search(r"Test cases:\s+(\d+) generated, (\d+) passed(.*)", report)
    assert cases, report[-3000:]
    generated, passed, rest = cases.groups()
    assert int(generated) > 500 and passed == generated and "failed" not in rest, report[-3000:]
