"""A teardown that stops a service reports a crash or an unclean exit instead of passing over it."""

from __future__ import annotations

import os

import pytest

from tests.support.processes import ServiceProcess, free_port, stop_all
from tests.support.wait import wait_for


def test_a_service_that_crashed_before_its_teardown_fails_it_with_its_log():
    crashed = ServiceProcess("services.no_such_service", dict(os.environ)).start()
    wait_for(lambda: crashed.process.poll() is not None, timeout=15, what="the start to fail")
    with pytest.raises(AssertionError, match=r"exited with 1, not 0:\n.*No module named services\.no_such"):
        crashed.stop()


def test_a_process_that_sigterm_kills_without_a_drain_fails_the_teardown_of_all():
    port = free_port()
    # http.server has no SIGTERM handler: the signal kills it (-15) instead of letting it drain and exit 0.
    undrained = ServiceProcess("http.server", dict(os.environ), ("--bind", "127.0.0.1", str(port)))
    with pytest.raises(AssertionError, match=r"http\.server exited with -15, not 0"):
        stop_all([undrained.start(wait_port=port)])
