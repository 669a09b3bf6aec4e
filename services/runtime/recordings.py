"""Where call recordings live, and the signed, expiring links through which people reach them.

A recording is addressed by a key such as `2024/05/01/<call id>.wav`. The store behind the key is a local
directory by default (`CRS_RECORDINGS_URL=file:///...`) or an S3-compatible bucket
(`CRS_RECORDINGS_URL=s3://bucket/prefix`, with `CRS_S3_ENDPOINT`, `CRS_S3_REGION`, `CRS_S3_ACCESS_KEY`,
`CRS_S3_SECRET_KEY`). A link handed to a browser is never a file path: it names the key, an expiry and an
HMAC over both, keyed by `CRS_RECORDING_LINK_SECRET`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import tempfile
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, unquote, urlsplit

from services.runtime.settings import env

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RECORDINGS_URL = (REPO_ROOT / "var" / "recordings").as_uri()
DEV_LINK_SECRET = "crs-dev-recording-link-secret"

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+=-]*(/[A-Za-z0-9][A-Za-z0-9._@+=-]*)*$")


class RecordingNotFound(KeyError):
    """No recording is stored under the key."""


def check_key(key: str) -> str:
    """Return `key` if it is a safe relative key (no `..`, no leading slash), else raise ValueError."""
    if not _KEY.match(key) or any(part in (".", "..") for part in key.split("/")) or len(key) > 512:
        raise ValueError(f"not a recording key: {key!r}")
    return key


class RecordingStore(Protocol):
    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...


class LocalDirectoryStore:
    """Recordings as files under one directory; writes are atomic (temp file, then rename)."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise RecordingNotFound(key) from None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def sigv4_headers(
    *,
    method: str,
    url: str,
    headers: dict[str, str],
    payload_hash: str,
    region: str,
    service: str,
    access_key: str,
    secret_key: str,
    when: datetime,
) -> dict[str, str]:
    """Return `headers` plus `x-amz-date` and an AWS Signature Version 4 `Authorization` header."""
    parts = urlsplit(url)
    amz_date = when.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    signed = {k.lower(): " ".join(v.strip().split()) for k, v in headers.items()}
    signed["host"] = parts.netloc
    signed["x-amz-date"] = amz_date
    names = sorted(signed)
    query = sorted(
        (quote(unquote(k), safe="-_.~"), quote(unquote(v), safe="-_.~"))
        for k, _, v in (pair.partition("=") for pair in parts.query.split("&") if pair)
    )
    canonical = "\n".join(
        [
            method,
            quote(unquote(parts.path or "/"), safe="/-_.~"),
            "&".join(f"{k}={v}" for k, v in query),
            "".join(f"{name}:{signed[name]}\n" for name in names),
            ";".join(names),
            payload_hash,
        ]
    )
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, _sha256_hex(canonical.encode())])
    key = _hmac(("AWS4" + secret_key).encode(), day)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    out = dict(headers)
    out["x-amz-date"] = amz_date
    out["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={';'.join(names)}, "
        f"Signature={signature}"
    )
    return out


class S3Store:
    """Recordings in an S3-compatible bucket, addressed path-style (works with AWS S3, MinIO, Ceph RGW)."""

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
        self.region = region
        self.access_key = access_key
        self.secret_key = secret_key
        self.timeout = timeout

    def object_url(self, key: str) -> str:
        name = f"{self.prefix}/{check_key(key)}" if self.prefix else check_key(key)
        return f"{self.endpoint}/{self.bucket}/{quote(name, safe='/-_.~')}"

    def _request(self, method: str, key: str, data: bytes = b"") -> urllib.request.Request:
        url = self.object_url(key)
        payload_hash = _sha256_hex(data)
        headers = {"x-amz-content-sha256": payload_hash}
        if method == "PUT":
            headers["content-type"] = "audio/wav"
        headers = sigv4_headers(
            method=method,
            url=url,
            headers=headers,
            payload_hash=payload_hash,
            region=self.region,
            service="s3",
            access_key=self.access_key,
            secret_key=self.secret_key,
            when=datetime.now(UTC),
        )
        body = data if method == "PUT" else None
        return urllib.request.Request(url, data=body, headers=headers, method=method)

    def _send(self, request: urllib.request.Request) -> bytes:
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            return response.read()

    def put(self, key: str, data: bytes) -> None:
        self._send(self._request("PUT", key, data))

    def get(self, key: str) -> bytes:
        try:
            return self._send(self._request("GET", key))
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                raise RecordingNotFound(key) from None
            raise

    def delete(self, key: str) -> None:
        try:
            self._send(self._request("DELETE", key))
        except urllib.error.HTTPError as exc:
            if exc.code != 404:
                raise

    def exists(self, key: str) -> bool:
        try:
            self._send(self._request("HEAD", key))
            return True
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return False
            raise


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


def _link_secret() -> bytes:
    return env("CRS_RECORDING_LINK_SECRET", DEV_LINK_SECRET).encode()


def _link_signature(key: str, expires: int) -> str:
    return hmac.new(_link_secret(), f"{key}\n{expires}".encode(), hashlib.sha256).hexdigest()


def sign_link(key: str, *, base_url: str, ttl_seconds: int, now: float | None = None) -> str:
    """A link to the recording `key` that works for `ttl_seconds` from `now`."""
    expires = int((time.time() if now is None else now) + ttl_seconds)
    signature = _link_signature(check_key(key), expires)
    return f"{base_url.rstrip('/')}/recordings/{quote(key, safe='/')}?expires={expires}&signature={signature}"


def verify_link(key: str, expires: int | str, signature: str, now: float | None = None) -> bool:
    """True when `signature` is the one `sign_link` gave `key` and `expires` has not passed."""
    try:
        expires_at = int(expires)
        check_key(key)
    except (TypeError, ValueError):
        return False
    if expires_at < (time.time() if now is None else now):
        return False
    return hmac.compare_digest(_link_signature(key, expires_at), str(signature))
