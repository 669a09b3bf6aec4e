"""Checks that tests can fail and benchmarks cannot report what they did not measure.

    python -m tests.support.lint_tests        # `make lint` runs it; exit 1 and one line a finding

A test function is flagged when nothing in it can fail it: no `assert`, no `pytest.raises`, no
`expect(...)` from Playwright, and no call to a helper that does one of those (a function of the same
module that asserts, `wait_for`, or a method named like a check). It is flagged too when every assertion
it makes is `is not None` or `isinstance`, or when an assertion compares an expression with itself.

A benchmark script (bench/*.py not starting with "_") is flagged unless it exits through
`bench._common.run_bench` and reports through `bench._common.percentiles`, which refuses a run with
nothing measured.
"""

from __future__ import annotations

import ast
import itertools
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Calls that fail the test by raising: the waits with a deadline, and helpers named as checks.
FAILING_CALLS = {"wait_for", "async_wait_for", "expect", "raises", "fail", "check_call", "stop_all"}
FAILING_PREFIXES = ("assert", "check", "expect", "require", "verify", "must")

# Benchmarks that have not yet moved onto the shared reporting, each with why. The lint fails when one
# of them already reports through it, so that the exemption is removed with the cause.
BENCH_PENDING: dict[str, str] = {
    "telephony.py": "its measuring is being reworked with the SIP edge; it moves onto run_bench then",
}


@dataclass(frozen=True)
class Finding:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}: {self.message}"


def _called_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _can_fail(node: ast.AST, asserting_helpers: set[str]) -> bool:
    for child in ast.walk(node):
        if isinstance(child, ast.Assert | ast.Raise):
            return True
        if isinstance(child, ast.Call):
            name = _called_name(child)
            if name in FAILING_CALLS or name in asserting_helpers or name.startswith(FAILING_PREFIXES):
                return True
    return False


def _only_existence(assertions: list[ast.Assert]) -> bool:
    def weak(test: ast.expr) -> bool:
        if isinstance(test, ast.Compare) and len(test.ops) == 1:
            right = test.comparators[0]
            return (
                isinstance(test.ops[0], ast.IsNot) and isinstance(right, ast.Constant) and right.value is None
            )
        return isinstance(test, ast.Call) and _called_name(test) == "isinstance"

    return bool(assertions) and all(weak(a.test) for a in assertions)


def _self_comparison(assertion: ast.Assert) -> bool:
    test = assertion.test
    if not isinstance(test, ast.Compare):
        return False
    sides = [test.left, *test.comparators]
    return any(ast.dump(a) == ast.dump(b) for a, b in itertools.pairwise(sides))


def _functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def check_test_file(path: Path) -> list[Finding]:
    tree = ast.parse(path.read_text(), str(path))
    functions = _functions(tree)
    asserting: set[str] = set()
    # A helper asserts if it, or a helper it calls, can fail; a few rounds reach every depth used here.
    for _ in range(4):
        asserting |= {f.name for f in functions if not f.name.startswith("test_") and _can_fail(f, asserting)}
    findings = []
    for function in functions:
        if not function.name.startswith("test_"):
            continue
        assertions = [n for n in ast.walk(function) if isinstance(n, ast.Assert)]
        if not _can_fail(function, asserting):
            findings.append(
                Finding(path, function.lineno, f"{function.name} asserts nothing: it cannot fail")
            )
        elif _only_existence(assertions) and not _can_fail(
            ast.Module(body=[s for s in function.body if not isinstance(s, ast.Assert)], type_ignores=[]),
            asserting,
        ):
            findings.append(
                Finding(path, function.lineno, f"{function.name} checks only that something exists")
            )
        findings += [
            Finding(path, a.lineno, f"{function.name} compares an expression with itself")
            for a in assertions
            if _self_comparison(a)
        ]
    return findings


def check_bench_file(path: Path) -> list[Finding]:
    tree = ast.parse(path.read_text(), str(path))
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "bench._common"
        for alias in node.names
    }
    complies = {"run_bench", "percentiles"} <= imported
    if path.name in BENCH_PENDING:
        if complies:
            return [Finding(path, 1, "reports through bench._common now: remove it from BENCH_PENDING")]
        return []
    if complies:
        return []
    missing = sorted({"run_bench", "percentiles"} - imported)
    return [
        Finding(path, 1, f"does not use bench._common's {', '.join(missing)}: it could exit 0 unmeasured")
    ]


def findings(root: Path = ROOT) -> list[Finding]:
    found = []
    for path in sorted((root / "tests").rglob("test_*.py")):
        found += check_test_file(path)
    for path in sorted((root / "bench").glob("[!_]*.py")):
        found += check_bench_file(path)
    return found


def main() -> int:
    found = findings()
    for finding in found:
        print(finding)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
