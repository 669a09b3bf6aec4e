"""Service identity: every gRPC server and client speaks mutual TLS with a certificate of its own.

A process's identity is its service name ("contacts", "console", ...). Its certificate carries that name
as the subject's common name and as a DNS name, and is signed by the deployment's CA. A server accepts
only clients whose certificate chains to that CA; `peer_identity()` tells a servicer who called.

Files live in CRS_TLS_DIR: `ca.crt`, and either `<identity>.crt` / `<identity>.key` (one directory holding
every identity, as the local run and the tests use) or `tls.crt` / `tls.key` (a Kubernetes TLS Secret
mounted for one pod). In development, a missing CA or certificate is generated there on first use:
a development CA is worth nothing outside this machine, and production never generates one.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import pathlib
import tempfile
from dataclasses import dataclass

from services.runtime.settings import env, in_production

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
PRODUCTION_DIR = "/etc/crs/tls"
DEVELOPMENT_DIR = str(REPO_ROOT / "var" / "dev-pki")
# Whom the local run and the tests issue certificates to; any other name is issued on first use.
DEVELOPMENT_IDENTITIES = (
    "contacts",
    "billing",
    "fulfillment",
    "screenpop",
    "telephony",
    "console",
    "knowledge",
    "insights",
    "channels",
    "outreach",
    "cli",
)
_identity: str | None = None


def set_identity(name: str) -> None:
    """Say which service this process is; process.run does it before anything speaks gRPC."""
    global _identity
    _identity = name


def identity() -> str:
    """This process's identity: the service process.run named, else CRS_TLS_IDENTITY, else "cli"."""
    return _identity or env("CRS_TLS_IDENTITY", "cli")


def tls_dir() -> pathlib.Path:
    return pathlib.Path(env("CRS_TLS_DIR", PRODUCTION_DIR if in_production() else DEVELOPMENT_DIR))


@dataclass(frozen=True)
class Identity:
    name: str
    ca: bytes
    certificate: bytes
    key: bytes


class MissingCertificate(SystemExit):
    pass


def load(name: str | None = None) -> Identity:
    """The CA and the certificate and key of `name` (default: this process's identity)."""
    name = name or identity()
    directory = tls_dir()
    if not in_production():
        ensure_development_pki(directory, [name])
    own = directory / f"{name}.crt", directory / f"{name}.key"
    mounted = directory / "tls.crt", directory / "tls.key"
    certificate, key = own if own[0].exists() else mounted
    for path in (directory / "ca.crt", certificate, key):
        if not path.exists():
            raise MissingCertificate(f"{name}: no {path}; mount the service's TLS Secret at CRS_TLS_DIR")
    return Identity(name, (directory / "ca.crt").read_bytes(), certificate.read_bytes(), key.read_bytes())


def peer_identity(context) -> str | None:
    """The common name of the certificate the calling peer presented, or None over plaintext."""
    names = context.auth_context().get("x509_common_name") or []
    return names[0].decode() if names else None


def ensure_development_pki(directory: pathlib.Path, names=DEVELOPMENT_IDENTITIES) -> pathlib.Path:
    """Create a development CA in `directory` if it has none, and a certificate for each of `names`."""
    if in_production():
        raise SystemExit("CRS_ENV=production: certificates come from the deployment, never generated here")
    if not (directory / "ca.crt").exists():
        _create_ca(directory)
    for name in names:
        if not (directory / f"{name}.crt").exists():
            issue(directory, name)
    return directory


def _create_ca(directory: pathlib.Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = pathlib.Path(tempfile.mkdtemp(prefix=".pki-", dir=directory.parent))
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CRS development CA")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    _write(staging / "ca.key", _private_bytes(key))
    _write(staging / "ca.crt", _public_bytes(certificate))
    # Two processes may start at once on a fresh checkout: the first rename wins, the other's CA is dropped.
    try:
        os.rename(staging, directory)
    except OSError:
        for leftover in staging.iterdir():
            leftover.unlink()
        staging.rmdir()


def issue(directory: pathlib.Path, name: str, *, ca_directory: pathlib.Path | None = None) -> None:
    """Write `<name>.crt` and `<name>.key` into `directory`, signed by the CA in `ca_directory`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    ca_directory = ca_directory or directory
    ca_key = serialization.load_pem_private_key((ca_directory / "ca.key").read_bytes(), password=None)
    ca_certificate = x509.load_pem_x509_certificate((ca_directory / "ca.crt").read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=90))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName(name),
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    # Key first, certificate last: a reader that finds the certificate finds its key too.
    _write(directory / f"{name}.key", _private_bytes(key))
    _write(directory / f"{name}.crt", _public_bytes(certificate))


def _private_bytes(key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _public_bytes(certificate) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return certificate.public_bytes(serialization.Encoding.PEM)


def _write(path: pathlib.Path, data: bytes) -> None:
    staging = path.with_name(f".{path.name}.{os.getpid()}")
    with open(os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
        handle.write(data)
    os.replace(staging, path)


def write_identity_directories(directory: pathlib.Path, names=DEVELOPMENT_IDENTITIES) -> None:
    """Beside the CA, one directory per identity holding the CA's certificate and that identity's own
    certificate and key, and nothing else: a container mounts its own directory (compose: a volume
    subpath), so it can present no other service's certificate and issue none."""
    for name in names:
        own = directory / name
        own.mkdir(mode=0o700, exist_ok=True)
        for source, target in (
            ("ca.crt", "ca.crt"),
            (f"{name}.crt", f"{name}.crt"),
            (f"{name}.key", f"{name}.key"),
        ):
            _write(own / target, (directory / source).read_bytes())
