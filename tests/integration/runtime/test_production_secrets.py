"""With CRS_ENV=production, a process given an empty or development secret refuses to start and names it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from services.runtime import settings

PROCESSES = {
    name: [secret for secret in secrets if secret in settings.SECRETS]
    for name, secrets in settings.SECRETS_BY_PROCESS.items()
    if set(secrets) & set(settings.SECRETS)
}


def start(module: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def production_env(base: dict[str, str]) -> dict[str, str]:
    env = {**base, "CRS_ENV": "production", "CRS_DATABASE_URL": "postgresql://crs:s3cret@127.0.0.1:9/crs"}
    env["CRS_AMQP_URL"] = "amqp://crs:s3cret@127.0.0.1:9/"
    for name in settings.SECRETS:
        env[name] = f"a-real-{name.lower()}-value"
    env["CRS_CONSOLE_TOKEN_KEYS"] = "k2026:a-real-console-token-key-of-forty-characters"
    return env


@pytest.mark.parametrize("service", sorted(PROCESSES))
@pytest.mark.parametrize("value", ["", "development"])
def test_a_production_process_refuses_an_empty_or_development_secret_and_names_it(
    service_env, service, value
):
    for secret in PROCESSES[service]:
        env = production_env(service_env)
        env[secret] = "" if value == "" else settings.SECRETS[secret]
        finished = start(f"services.{service}", env)
        assert finished.returncode != 0, finished.stderr
        assert secret in finished.stderr, finished.stderr[-2000:]


def test_a_production_process_refuses_a_development_broker_password(service_env):
    env = production_env(service_env)
    env["CRS_AMQP_URL"] = "amqp://guest:guest@127.0.0.1:5672/"
    finished = start("services.billing", env)
    assert finished.returncode != 0 and "CRS_AMQP_URL" in finished.stderr


def test_outside_production_the_development_values_still_apply(monkeypatch):
    monkeypatch.delenv("CRS_ENV", raising=False)
    monkeypatch.setenv("CRS_S3_SECRET_KEY", "")
    assert settings.env("CRS_S3_SECRET_KEY", "ignored") == settings.SECRETS["CRS_S3_SECRET_KEY"]


def test_in_production_an_empty_secret_read_later_is_refused_too(monkeypatch):
    monkeypatch.setenv("CRS_ENV", "production")
    monkeypatch.setenv("CRS_S3_SECRET_KEY", "")
    with pytest.raises(SystemExit, match="CRS_S3_SECRET_KEY"):
        settings.env("CRS_S3_SECRET_KEY", "crs-dev-secret")
