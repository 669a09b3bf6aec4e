"""The recording store and its signed links, as the contacts service and the recorder use them."""

from __future__ import annotations

import pytest

from services.runtime import recordings
from services.runtime.recordings import (
    LocalDirectoryStore,
    RecordingExists,
    RecordingNotFound,
    S3Store,
    store_from_url,
)


def test_local_store_round_trip(tmp_path):
    store = LocalDirectoryStore(tmp_path)
    store.put("2024/05/01/call-1.wav", b"RIFF....")
    assert store.exists("2024/05/01/call-1.wav")
    assert store.get("2024/05/01/call-1.wav") == b"RIFF...."
    store.delete("2024/05/01/call-1.wav")
    assert not store.exists("2024/05/01/call-1.wav")
    with pytest.raises(RecordingNotFound):
        store.get("2024/05/01/call-1.wav")
    assert [p.name for p in tmp_path.rglob(".part-*")] == []


def test_local_store_never_overwrites_a_recording(tmp_path):
    store = LocalDirectoryStore(tmp_path)
    store.put("2024/05/01/call-1.wav", b"first")
    source = tmp_path / "spooled.wav"
    source.write_bytes(b"second")
    with pytest.raises(RecordingExists):
        store.put_file("2024/05/01/call-1.wav", source)
    assert store.get("2024/05/01/call-1.wav") == b"first"
    assert [p.name for p in tmp_path.rglob(".part-*")] == []


@pytest.mark.parametrize("key", ["../etc/passwd", "/etc/passwd", "a/../../b", "", "a//b", "a/./b"])
def test_local_store_refuses_keys_that_escape_its_root(tmp_path, key):
    with pytest.raises(ValueError):
        LocalDirectoryStore(tmp_path).put(key, b"x")


def test_store_from_url_picks_the_backend(tmp_path, monkeypatch):
    assert isinstance(store_from_url(tmp_path.as_uri()), LocalDirectoryStore)
    monkeypatch.setenv("CRS_S3_ENDPOINT", "http://127.0.0.1:9000")
    store = store_from_url("s3://calls/recordings")
    assert isinstance(store, S3Store)
    assert store.object_url("2024/x.wav") == "http://127.0.0.1:9000/calls/recordings/2024/x.wav"
    with pytest.raises(SystemExit):
        store_from_url("ftp://nowhere/")


def test_default_store_is_a_directory_in_the_repository(monkeypatch):
    monkeypatch.delenv("CRS_RECORDINGS_URL", raising=False)
    store = recordings.store_from_env()
    assert isinstance(store, LocalDirectoryStore)
    assert store.root == recordings.REPO_ROOT / "var" / "recordings"
