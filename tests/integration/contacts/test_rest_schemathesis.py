"""schemathesis against the casework API's own OpenAPI document: no input makes the server fail."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.integration.contacts.case_support import token


async def test_no_generated_request_gets_a_server_error(contacts, tmp_path):
    schemathesis = Path(sys.executable).parent / "schemathesis"
    # Run as a child process, awaited, so this process's event loop keeps serving the API under test.
    process = await asyncio.create_subprocess_exec(
        str(schemathesis),
        "run",
        f"{contacts.http_url}/api/openapi.json",
        "--header",
        f"Authorization: Bearer {token('fuzz', 'supervisor')}",
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
    output, _ = await asyncio.wait_for(process.communicate(), timeout=240)
    report = output.decode(errors="replace")
    assert process.returncode == 0, report[-6000:]
    assert " passed" in report and "failed" not in report.split("SUMMARY")[-1].lower(), report[-3000:]
