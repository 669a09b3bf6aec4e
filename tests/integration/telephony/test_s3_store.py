"""The S3 recording store's real reads and writes, against an S3-compatible server (moto's server
mode) that the test starts as its own process on a free port."""

from __future__ import annotations

import subprocess
import sys
import urllib.request

import pytest

from services.runtime.recordings import RecordingExists, RecordingNotFound, store_from_url
from tests.integration.telephony.stack import free_tcp_port
from tests.support.wait import wait_for


def answering(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=1).read()
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory):
    port = free_tcp_port()
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: server.poll() is not None or answering(url), timeout=30, what="moto's S3 server")
        assert server.poll() is None, "moto's server exited"
        yield url
    finally:
        server.terminate()
        server.wait(10)
        log.close()


@pytest.fixture
def store(s3_endpoint, monkeypatch):
    monkeypatch.setenv("CRS_S3_ENDPOINT", s3_endpoint)
    monkeypatch.setenv("CRS_S3_ACCESS_KEY", "test-access")
    monkeypatch.setenv("CRS_S3_SECRET_KEY", "test-secret")
    store = store_from_url("s3://crs-recordings/calls")
    try:
        store.client.create_bucket(Bucket="crs-recordings")
    except store.client.exceptions.BucketAlreadyOwnedByYou:
        pass
    return store


def test_a_spooled_recording_is_streamed_up_and_read_back(store, tmp_path):
    spooled = tmp_path / "call.wav"
    spooled.write_bytes(b"RIFF" + bytes(range(256)) * 4096)  # 1 MiB of audio-shaped bytes
    store.put_file("2026/12/01/a-call.wav", spooled)
    assert store.exists("2026/12/01/a-call.wav")
    assert store.get("2026/12/01/a-call.wav") == spooled.read_bytes()
    listed = store.client.list_objects_v2(Bucket="crs-recordings", Prefix="calls/")["Contents"]
    assert [(o["Key"], o["Size"]) for o in listed] == [("calls/2026/12/01/a-call.wav", 4 + 256 * 4096)]


def test_an_existing_recording_is_never_overwritten(store):
    store.put("2026/12/01/kept.wav", b"the first call")
    with pytest.raises(RecordingExists):
        store.put("2026/12/01/kept.wav", b"a second call with the same key")
    assert store.get("2026/12/01/kept.wav") == b"the first call"


def test_a_missing_recording_is_not_found_and_delete_removes(store):
    with pytest.raises(RecordingNotFound):
        store.get("2026/12/01/never.wav")
    assert not store.exists("2026/12/01/never.wav")
    store.put("2026/12/01/gone.wav", b"x")
    store.delete("2026/12/01/gone.wav")
    assert not store.exists("2026/12/01/gone.wav")
