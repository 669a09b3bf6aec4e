"""Where call recordings live.

A recording is addressed by a key such as `2024/05/01/<call id>.wav`. The store behind the key is a local
directory by default (`CRS_RECORDINGS_URL=file:///...`) or an S3-compatible bucket
(`CRS_RECORDINGS_URL=s3://bucket/prefix`, through botocore, with `CRS_S3_ENDPOINT`, `CRS_S3_REGION`, `CRS_S3_ACCESS_KEY`,
`CRS_S3_SECRET_KEY`).
People play recordings through the console (`/recordings/{call_id}`), which checks their session and streams
from the store; no page holds a link that works for whoever has it.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, unquote, urlsplit

import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError

from services.runtime.settings import env

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RECORDINGS_URL = (REPO_ROOT / "var" / "recordings").as_uri()

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+=-]*(/[A-Za-z0-9][A-Za-z0-9._@+=-]*)*$")


class RecordingNotFound(KeyError):
    """No recording is stored under the key."""


def check_key(key: str) -> str:
    """Return `key` if it is a safe relative key (no `..`, no leading slash), else raise ValueError."""
    if not _KEY.match(key) or any(part in (".", "..") for part in key.split("/")) or len(key) > 512:
        raise ValueError(f"not a recording key: {key!r}")
    return key


class RecordingExists(FileExistsError):
    """A recording is already stored under the key: stores never overwrite one."""


class RecordingStore(Protocol):
    def put(self, key: str, data: bytes) -> None: ...

    def put_file(self, key: str, path: str | os.PathLike[str]) -> None: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...


class LocalDirectoryStore:
    """Recordings as files under one directory. Writes are atomic (temp file, then a hard link, which
    fails rather than replace an existing recording)."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes) -> None:
        self._put(key, lambda out: out.write(data))

    def put_file(self, key: str, path: str | os.PathLike[str]) -> None:
        """Store the file at `path` under `key`, copying it in chunks."""
        with open(path, "rb") as source:
            self._put(key, lambda out: shutil.copyfileobj(source, out, 1024 * 1024))

    def _put(self, key: str, write) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out:
                write(out)
            os.link(tmp, path)
        except FileExistsError:
            raise RecordingExists(key) from None
        finally:
            Path(tmp).unlink(missing_ok=True)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise RecordingNotFound(key) from None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


class S3Store:
    """Recordings in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW), through botocore.

    Addressed path-style, which every S3-compatible server accepts. Uploads stream from the spool file
    and are conditional (`If-None-Match: *`), so an existing recording is never overwritten."""

    def __init__(
        self,
        *,
        endpoint: str,
        bucket: str,
        prefix: str = "",
        region: str = "us-east-1",
        access_key: str,
        secret_key: str,
        timeout: float = 30.0,
    ):
        self.endpoint = endpoint.rstrip("/")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = botocore.session.get_session().create_client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=region,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            config=Config(
                s3={"addressing_style": "path"},
                connect_timeout=timeout,
                read_timeout=timeout,
                retries={"max_attempts": 3, "mode": "standard"},
            ),
        )

    def object_name(self, key: str) -> str:
        return f"{self.prefix}/{check_key(key)}" if self.prefix else check_key(key)

    def object_url(self, key: str) -> str:
        return f"{self.endpoint}/{self.bucket}/{quote(self.object_name(key), safe='/-_.~')}"

    def _put(self, key: str, body) -> None:
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=self.object_name(key),
                Body=body,
                ContentType="audio/wav",
                IfNoneMatch="*",
            )
        except ClientError as exc:
            if _status(exc) in (409, 412):
                raise RecordingExists(key) from None
            raise

    def put(self, key: str, data: bytes) -> None:
        self._put(key, data)

    def put_file(self, key: str, path: str | os.PathLike[str]) -> None:
        with open(path, "rb") as body:
            self._put(key, body)

    def get(self, key: str) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.object_name(key))
        except ClientError as exc:
            if _status(exc) == 404:
                raise RecordingNotFound(key) from None
            raise
        with response["Body"] as body:
            return body.read()

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.object_name(key))

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.object_name(key))
            return True
        except ClientError as exc:
            if _status(exc) == 404:
                return False
            raise


def _status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def store_from_url(url: str) -> RecordingStore:
    """Build the store a `file://` or `s3://bucket/prefix` URL names."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        return LocalDirectoryStore(unquote(parts.path))
    if parts.scheme == "s3":
        return S3Store(
            endpoint=env("CRS_S3_ENDPOINT", "https://s3.amazonaws.com"),
            bucket=parts.netloc,
            prefix=parts.path,
            region=env("CRS_S3_REGION", "us-east-1"),
            access_key=env("CRS_S3_ACCESS_KEY", "crs-dev"),
            secret_key=env("CRS_S3_SECRET_KEY", "crs-dev-secret"),
        )
    raise SystemExit(f"CRS_RECORDINGS_URL must be file:// or s3://, not {url!r}")


def store_from_env() -> RecordingStore:
    """The store CRS_RECORDINGS_URL names (default: var/recordings in the repository)."""
    return store_from_url(env("CRS_RECORDINGS_URL", DEFAULT_RECORDINGS_URL))
