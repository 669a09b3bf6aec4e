"""`crs codes export|import`: the code tables as CSV, against the real database."""

from __future__ import annotations

import subprocess
import sys


def crs(service_env, *args, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "services.cli.main", *args],
        env=service_env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_export_then_import_a_new_branch_and_a_deactivation(service_env, tmp_path):
    exported = crs(service_env, "codes", "export", "issue")
    assert exported.returncode == 0, exported.stderr
    assert "complaint.quality.foreign_object.plastic,Plastic,high,false,true" in exported.stdout
    new = tmp_path / "issues.csv"
    new.write_text(
        "code,label,severity,auto_escalate,active,position\n"
        "complaint.allergen.undeclared_nuts,Undeclared nuts,critical,true,true,2\n"
        "complaint.allergen,Allergen,high,false,true,1\n"
        "question.promotions,Promotions and coupons,low,false,false,14\n"
    )
    imported = crs(service_env, "codes", "import", "issue", str(new))
    assert imported.returncode == 0, imported.stderr
    again = crs(service_env, "codes", "export", "issue").stdout
    assert "complaint.allergen.undeclared_nuts,Undeclared nuts,critical,true,true,2" in again
    assert "question.promotions,Promotions and coupons,low,false,false,14" in again


def test_a_bad_file_is_refused_whole_with_the_line_named(service_env):
    bad = "code,label,stage\nreopened,Reopened,in_progress\nlimbo,Limbo,nowhere\n"
    result = crs(service_env, "codes", "import", "status", "-", stdin=bad)
    assert result.returncode == 1 and "line 3: stage" in result.stderr
    assert "reopened" not in crs(service_env, "codes", "export", "status").stdout
    orphan = crs(service_env, "codes", "import", "issue", "-", stdin="code,label\nnowhere.child,Child\n")
    assert orphan.returncode == 1 and "parent 'nowhere'" in orphan.stderr
