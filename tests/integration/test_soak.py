"""The soak's short form: a minute and a half of answered, recorded calls, their pops and web forms.
No process grows beyond the bound of tests/support/resources.py over the second half, every call pops, every form is stored, and every process stops cleanly. `make soak` is the
long form."""

from __future__ import annotations

import pytest

from services.console.seed import seed_demo
from tests.support import infra, soak

pytestmark = pytest.mark.sip


async def test_a_short_soak_pops_every_call_stores_every_form_and_nothing_grows(tmp_path):
    with infra.migrated_database("crs_soak") as url, infra.own_vhost("crs-soak") as amqp_url:
        seed_demo(url)
        stack = soak.start_stack(url, amqp_url, tmp_path)
        try:
            result = await soak.run(stack, tmp_path, seconds=90, rate=3, sample_every=3)
        finally:
            stopped = stack.stop()
    print(result.report())
    assert result.sipp_exit == 0, result.sipp_said
    assert result.failures(lost_share=0) == [], result.report()
    assert stopped == []
