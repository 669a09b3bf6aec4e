"""Generate the Python protobuf and gRPC modules from protos/ into a directory that is not committed."""

import argparse
import pathlib
import shutil
import sys
import tempfile

from grpc_tools import protoc

ROOT = pathlib.Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="gen/python")
    args = parser.parse_args()
    out = ROOT / args.out
    # Generate beside the target and copy over it, so that processes importing it never see it missing.
    staging = pathlib.Path(tempfile.mkdtemp(prefix="crs-gen-"))
    protos_dir = ROOT / "protos"
    sources = sorted(str(p.relative_to(protos_dir)) for p in protos_dir.rglob("*.proto"))
    well_known = pathlib.Path(protoc.__file__).parent / "_proto"
    code = protoc.main(
        [
            "grpc_tools.protoc",
            f"-I{protos_dir}",
            f"-I{well_known}",
            f"--python_out={staging}",
            f"--pyi_out={staging}",
            f"--grpc_python_out={staging}",
            *sources,
        ]
    )
    if code != 0:
        print("protoc failed", file=sys.stderr)
        return code
    for directory in (p for p in staging.rglob("*") if p.is_dir()):
        (directory / "__init__.py").touch()
    fresh = {p.relative_to(staging) for p in staging.rglob("*") if p.is_file()}
    shutil.copytree(staging, out, dirs_exist_ok=True)
    for stale in [p for p in out.rglob("*.py*") if p.is_file() and p.relative_to(out) not in fresh]:
        stale.unlink()
    shutil.rmtree(staging)
    # Make the generated package importable from the virtualenv without installing it.
    site = next(pathlib.Path(sys.prefix).glob("lib/python3*/site-packages"), None)
    if site is not None:
        (site / "crs_generated.pth").write_text(str(out) + "\n")
    print(f"generated {len(sources)} proto files into {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
