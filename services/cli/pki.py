"""`crs pki`: a development CA and a certificate for every CRS process, for the local run and compose."""

from __future__ import annotations

import pathlib

from services.runtime import settings, tls


def run(args) -> int:
    if settings.in_production():
        print("CRS_ENV=production: certificates come from the deployment's own CA, not from here")
        return 2
    directory = tls.ensure_development_pki(pathlib.Path(args.dir) if args.dir else tls.tls_dir())
    tls.write_identity_directories(directory)
    print(f"development CA and certificates in {directory}, and each identity's own in {directory}/<name>")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("pki", help="create a development CA and service certificates if missing")
    parser.add_argument("--dir", help="defaults to CRS_TLS_DIR")
    parser.set_defaults(func=run)
