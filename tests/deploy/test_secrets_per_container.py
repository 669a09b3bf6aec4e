"""Each container receives only the secrets its process reads, and only its own TLS identity.

What a process may receive is derived from the code (services/runtime/settings.py: SECRETS_BY_PROCESS,
with the credentials some set-ups read, and the owner's database URL for migrations alone); compose and
every Kubernetes overlay are checked against it, both ways: nothing more, and nothing it needs missing.
"""

from __future__ import annotations

import copy
from urllib.parse import urlsplit

import pytest

from services.runtime import settings
from tests.deploy import test_compose, test_k8s
from tests.deploy.codefacts import is_secret

MIGRATE = settings.MIGRATIONS


def carries_credential(name: str, value: str | None) -> bool:
    """A URL that names only a server is no credential; any other secret-named setting is one."""
    if name in settings.URLS_WITH_CREDENTIALS and value is not None:
        return bool(urlsplit(value.replace("${", "").replace("}", "")).password)
    return is_secret(name)


def required(process: str) -> set[str]:
    if process == MIGRATE:
        return set(settings.credentials_of(MIGRATE))
    process = {"fulfillment.worker": "fulfillment"}.get(process, process)
    return set(settings.SECRETS_BY_PROCESS.get(process, ())) - {"CRS_DATABASE_URL"}


def excess_and_missing(process: str, given: set[str]) -> tuple[set[str], set[str]]:
    return given - settings.credentials_of(process), required(process) - given


# -- compose --


def compose_process(service: dict) -> str:
    command = service.get("command", [])
    if command[:2] == ["python", "-m"]:
        return command[2].removeprefix("services.")
    assert "crs migrate" in " ".join(command), command
    return MIGRATE


def compose_credentials(service: dict) -> set[str]:
    environment = service.get("environment", {})
    return {name for name, value in environment.items() if carries_credential(name, str(value))}


def compose_pki_mounts(service: dict) -> list[str | None]:
    """The subpath of each mount of the `pki` volume (None: the whole volume)."""
    found = []
    for mount in service.get("volumes", []):
        if isinstance(mount, str):
            if mount.split(":")[0] == "pki":
                found.append(None)
        elif mount.get("source") == "pki":
            assert mount.get("read_only") is True, mount
            found.append(mount.get("volume", {}).get("subpath"))
    return found


def compose_problems(spec: dict) -> list[str]:
    problems = []
    for name, service in spec["services"].items():
        if not test_compose.CRS_IMAGES.match(service.get("image", "")):
            continue
        process = compose_process(service)
        excess, missing = excess_and_missing(process, compose_credentials(service))
        if excess:
            problems.append(f"compose {name} ({process}) gets {sorted(excess)}, which it does not read")
        if missing:
            problems.append(f"compose {name} ({process}) lacks {sorted(missing)}")
        mounts = compose_pki_mounts(service)
        if process == MIGRATE:
            expected = [None]  # it holds the development CA and writes every identity's directory
        elif process in settings.TLS_IDENTITIES:
            expected = [process]
        else:
            expected = []
        if mounts != expected:
            problems.append(f"compose {name} ({process}) mounts the TLS identities {mounts}, not {expected}")
    return problems


def test_each_compose_container_gets_only_its_own_secrets_and_tls_identity():
    assert compose_problems(test_compose.compose()) == []


def test_the_compose_check_catches_a_container_given_another_ones_secret_or_identity():
    spec = test_compose.compose()
    doctored = copy.deepcopy(spec)
    doctored["services"]["billing"]["environment"]["CRS_CONTACTS_DB_PASSWORD"] = "x"
    doctored["services"]["knowledge"]["environment"]["CRS_DATABASE_URL"] = "postgresql://crs:pw@postgres/crs"
    doctored["services"]["screenpop"]["volumes"] = ["pki:/var/lib/crs/pki:ro"]
    assert compose_problems(doctored) == [
        "compose billing (billing) gets ['CRS_CONTACTS_DB_PASSWORD'], which it does not read",
        "compose knowledge (knowledge) gets ['CRS_DATABASE_URL'], which it does not read",
        "compose screenpop (screenpop) mounts the TLS identities [None], not ['screenpop']",
    ]


# -- Kubernetes --


def k8s_process(container: dict) -> str:
    module = test_k8s.module_of(container)
    if module is not None:
        return module
    assert container.get("command", [])[:2] == ["crs", "migrate"], container.get("command")
    return MIGRATE


def k8s_credentials(container: dict, config: dict[str, str]) -> set[str]:
    given = set()
    if any("configMapRef" in source for source in container.get("envFrom", [])):
        given |= {name for name, value in config.items() if carries_credential(name, value)}
    for variable in container.get("env", []):
        name = variable["name"]
        if "value" in variable:
            given |= {name} if carries_credential(name, variable["value"]) else set()
            continue
        reference = variable.get("valueFrom", {}).get("secretKeyRef")
        if reference is not None:
            # A Secret's key holds a credential; it must be read under its own name (or be the URL
            # CloudNativePG writes for the owner), so what a pod gets can be read off the manifest.
            assert reference["key"] == name or (reference["name"], name) == ("crs-db-app", "CRS_DATABASE_URL")
            given.add(name)
        else:
            given.discard(name)  # from the pod's own fields, e.g. its node's address
    return given


def k8s_tls_secrets(spec: dict) -> list[str]:
    return sorted(
        v["secret"]["secretName"]
        for v in spec.get("volumes", [])
        if "secret" in v and v["secret"]["secretName"].startswith("crs-tls-")
    )


def k8s_problems(overlay: str, rendered) -> list[str]:
    config = next(o for o in rendered if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "crs-config")
    problems = []
    for workload in rendered:
        if workload["kind"] not in test_k8s.WORKLOADS:
            continue
        spec = workload["spec"]["template"]["spec"]
        for container in spec["containers"]:
            if not test_k8s.CRS_IMAGE.search(container["image"]):
                continue
            name, process = workload["metadata"]["name"], k8s_process(container)
            excess, missing = excess_and_missing(process, k8s_credentials(container, config["data"]))
            if excess:
                problems.append(f"{overlay} {name} ({process}) gets {sorted(excess)}, which it does not read")
            if missing:
                problems.append(f"{overlay} {name} ({process}) lacks {sorted(missing)}")
            expected = [f"crs-tls-{process}"] if process in settings.TLS_IDENTITIES else []
            if k8s_tls_secrets(spec) != expected:
                problems.append(
                    f"{overlay} {name} ({process}) mounts {k8s_tls_secrets(spec)}, not {expected}"
                )
    return problems


@pytest.mark.parametrize("overlay", test_k8s.OVERLAYS)
def test_each_pod_in_every_overlay_gets_only_its_own_secrets_and_tls_identity(overlay):
    assert k8s_problems(overlay, test_k8s.rendered(overlay)) == []


def test_the_k8s_check_catches_a_pod_given_another_ones_secret_or_identity():
    rendered = copy.deepcopy(list(test_k8s.rendered("prod")))
    by_name = {(o["kind"], o["metadata"]["name"]): o for o in rendered}
    billing = by_name["Deployment", "billing"]["spec"]["template"]["spec"]
    billing["containers"][0]["env"].append(
        {
            "name": "CRS_CONSOLE_TOKEN_KEYS",
            "valueFrom": {"secretKeyRef": {"name": "crs-secrets", "key": "CRS_CONSOLE_TOKEN_KEYS"}},
        }
    )
    knowledge = by_name["Deployment", "knowledge"]["spec"]["template"]["spec"]
    knowledge["volumes"].append({"name": "other", "secret": {"secretName": "crs-tls-console"}})
    assert k8s_problems("prod", rendered) == [
        "prod billing (billing) gets ['CRS_CONSOLE_TOKEN_KEYS'], which it does not read",
        "prod knowledge (knowledge) mounts ['crs-tls-console', 'crs-tls-knowledge'], not ['crs-tls-knowledge']",
    ]


def test_the_owner_database_credentials_reach_the_migrations_alone():
    assert "CRS_DATABASE_URL" in settings.credentials_of(MIGRATE)
    for process in [*settings.SECRETS_BY_PROCESS, "fulfillment.worker", "telephony.edge"]:
        assert "CRS_DATABASE_URL" not in settings.credentials_of(process), process
    for overlay in test_k8s.OVERLAYS:
        assert not carries_credential("CRS_DATABASE_URL", test_k8s.configmap(overlay)["CRS_DATABASE_URL"])
    assert not carries_credential("CRS_DATABASE_URL", test_compose.compose()["x-crs-env"]["CRS_DATABASE_URL"])
