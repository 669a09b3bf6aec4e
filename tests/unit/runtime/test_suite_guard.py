"""The guard that keeps tests able to fail and benchmarks from reporting what they did not measure."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from bench._common import BenchFailed, percentiles
from tests.support import lint_tests

WEAK_TESTS = """
def helper(x):
    return x + 1


def asserting_helper(x):
    assert x


def test_calls_but_never_checks():
    helper(1)


def test_only_that_it_was_built():
    thing = object()
    assert thing is not None


def test_a_value_against_itself():
    value = helper(1)
    assert value == value


def test_checks_through_a_helper():
    asserting_helper(helper(1))


async def test_checks_a_value():
    assert helper(1) == 2
"""


def test_the_guard_names_each_test_that_cannot_fail_and_passes_the_sound_ones(tmp_path):
    path = tmp_path / "test_weak.py"
    path.write_text(textwrap.dedent(WEAK_TESTS))
    found = [(f.line, f.message) for f in lint_tests.check_test_file(path)]
    assert found == [
        (10, "test_calls_but_never_checks asserts nothing: it cannot fail"),
        (14, "test_only_that_it_was_built checks only that something exists"),
        (21, "test_a_value_against_itself compares an expression with itself"),
    ]


def test_a_benchmark_that_does_not_report_through_the_shared_helpers_is_named(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "loose.py").write_text("import sys\nprint('p99 0 ms')\nsys.exit(0)\n")
    (tmp_path / "bench" / "sound.py").write_text("from bench._common import percentiles, run_bench\n")
    found = [(f.path.name, f.message) for f in lint_tests.findings(tmp_path)]
    assert found == [
        ("loose.py", "does not use bench._common's percentiles, run_bench: it could exit 0 unmeasured")
    ]


def test_this_tree_has_nothing_for_the_guard_to_report():
    assert [str(f) for f in lint_tests.findings()] == []


def test_a_benchmark_run_with_nothing_measured_fails_instead_of_reporting():
    with pytest.raises(BenchFailed, match="pops timed: 0 measured, nothing to report"):
        percentiles([], what="pops timed")
    with pytest.raises(BenchFailed, match="1 measured"):
        percentiles([3.0])
    assert percentiles([1.0, 2.0, 3.0])["max"] == 3.0


def test_run_bench_turns_a_failed_run_into_exit_1_with_the_reason():
    script = (
        "from bench._common import BenchFailed, run_bench\n"
        "def main():\n"
        "    raise BenchFailed('sipp sent nothing')\n"
        "run_bench(main)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip() == "-c: FAILED: sipp sent nothing"
