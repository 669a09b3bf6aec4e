"""docker-compose.yml: valid against the compose specification, and in step with what the code reads."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.deploy.codefacts import ROOT, grpc_ports, is_secret, names_read, service_names

COMPOSE = ROOT / "docker-compose.yml"
CRS_IMAGES = re.compile(r"^crs(-edge)?:")


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def crs_services() -> dict[str, dict]:
    return {
        name: svc for name, svc in compose()["services"].items() if CRS_IMAGES.match(svc.get("image", ""))
    }


def long_running() -> dict[str, dict]:
    return {name: svc for name, svc in compose()["services"].items() if svc.get("restart") != "no"}


def validate(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_compose_file_validates_against_the_compose_specification():
    result = validate(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_compose_validation_rejects_a_broken_file(tmp_path):
    broken = compose()
    broken["services"]["screenpop"]["depends_on"]["contacts"]["condition"] = "service_ready"
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(broken))
    result = validate(path)
    # The validator must have run and named the bad value: a missing module or a crash also exits non-zero.
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Schema validation errors were encountered" in result.stdout, result.stdout + result.stderr
    assert "$.services.screenpop.depends_on.contacts.condition: 'service_ready'" in result.stdout


def test_every_setting_the_code_reads_is_set_in_compose_and_nothing_set_goes_unread():
    # Credentials are each container's own: tests/deploy/test_secrets_per_container.py.
    settings_read = {name for name in names_read() if not is_secret(name)}
    for name, service in crs_services().items():
        set_here = {key for key in service.get("environment", {}) if key.startswith("CRS_")}
        missing = sorted(settings_read - set_here)
        unread = sorted(set_here - names_read())
        assert not missing, f"{name}: the code reads {missing}, which compose does not set"
        assert not unread, f"{name}: compose sets {unread}, which no code reads"


def test_containers_reach_each_grpc_api_by_service_name_on_the_port_the_code_uses():
    for name, service in crs_services().items():
        environment = service["environment"]
        assert environment["CRS_GRPC_BIND_HOST"] == "0.0.0.0"
        for target, port in grpc_ports().items():
            assert environment[f"CRS_{target.upper()}_GRPC"] == f"{target}:{port}", name


def test_every_process_runs_from_the_one_image_with_its_own_command():
    commands = {" ".join(svc.get("command", [])): name for name, svc in crs_services().items()}
    runnable = {p.parent.name for p in (ROOT / "services").glob("*/__main__.py")} - {"cli"}
    for service in sorted(set(service_names()) | runnable | {"telephony.edge"}):
        assert f"python -m services.{service}" in commands, f"compose does not run services.{service}"
    migrate = compose()["services"]["migrate"]
    assert "crs migrate" in " ".join(migrate["command"]) and "crs seed --demo" in " ".join(migrate["command"])


def test_demo_logins_are_seeded_only_when_asked_for_and_the_broker_ui_is_not_published():
    command = " ".join(compose()["services"]["migrate"]["command"])
    assert "if [ ${CRS_SEED_DEMO:-false} = true ]; then crs seed --demo; fi" in command
    rabbitmq = compose()["services"]["rabbitmq"]
    assert not [p for p in rabbitmq.get("ports", []) if "15672" in str(p)], "the management UI is published"


def test_a_production_compose_run_gets_no_development_secret_defaults_silently():
    # Defaults exist for a laptop; CRS_ENV=production makes every process refuse them (runtime/settings.py).
    assert compose()["x-crs-env"]["CRS_ENV"] == "${CRS_ENV:-development}"


def test_every_long_running_service_has_a_health_check_and_waits_for_what_it_needs():
    services = compose()["services"]
    for name, service in long_running().items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
    for name, service in crs_services().items():
        conditions = {dep: spec["condition"] for dep, spec in service.get("depends_on", {}).items()}
        for dependency, condition in conditions.items():
            expected = "service_completed_successfully" if dependency == "migrate" else "service_healthy"
            assert condition == expected, f"{name} waits for {dependency} with {condition}"
            assert dependency in services
        if name not in ("migrate", "edge"):
            assert conditions.get("migrate") == "service_completed_successfully", name
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_no_crs_container_runs_as_root_or_writes_outside_its_volumes():
    for name, service in crs_services().items():
        assert str(service.get("user", "10001")).split(":")[0] not in ("0", "root"), name
        assert service.get("read_only") is True, f"{name}: the root filesystem is writable"


def test_database_and_recordings_live_in_named_volumes():
    spec = compose()
    volumes = spec["volumes"]
    mounts = {name: svc.get("volumes", []) for name, svc in spec["services"].items()}
    assert any(m.split(":")[0] in volumes for m in mounts["postgres"])
    recordings_dir = spec["x-crs-env"]["CRS_RECORDINGS_URL"].split("file://")[-1].rstrip("}")
    assert f"recordings:{recordings_dir}" in mounts["telephony"]
    # Contacts keeps only the recording's key; it never opens the store.
    assert not any(str(m).startswith("recordings:") for m in mounts["contacts"])
    # The console plays recordings: it reads the same volume, and may not write it.
    assert f"recordings:{recordings_dir}:ro" in mounts["console"]


@pytest.mark.parametrize("published", ["8080:8080", "5060:5060/udp"])
def test_console_and_sip_ports_are_published(published):
    ports = [str(p) for svc in compose()["services"].values() for p in svc.get("ports", [])]
    assert published in ports


def test_the_published_rtp_range_is_the_one_documented():
    ports = [str(p) for p in compose()["services"]["telephony"]["ports"]]
    rtp = [p for p in ports if p.endswith("/udp") and "-" in p]
    assert len(rtp) == 1
    low, high = re.match(r"(\d+)-(\d+):", rtp[0]).groups()
    environment = compose()["services"]["telephony"]["environment"]
    assert (environment["CRS_RTP_PORT_LOW"], environment["CRS_RTP_PORT_HIGH"]) == (low, high)
    assert f"{low}-{high}" in (ROOT / "docs" / "deploy.md").read_text()


def test_settings_left_out_of_deployments_are_read_only_by_developer_commands():
    from tests.deploy.codefacts import DEVELOPER_TOOL_ONLY, source_reads

    for read in source_reads():
        if read.name in DEVELOPER_TOOL_ONLY:
            assert read.where.startswith("services/cli/"), f"{read.where} reads {read.name} in a service"
