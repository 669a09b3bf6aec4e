"""The mail path for the outreach tests that send for real: a database and vhost of the module's own (so no
other test's campaigns or surveys are swept with them), a channels process over it, and its mail sink."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.support import infra
from tests.support.mail_sink import channels_with_sink


@dataclass(frozen=True)
class MailPath:
    env: dict[str, str]  # outreach's environment: this database and vhost
    channels: str  # channels' gRPC target
    sink: object  # the Maildir channels files its mail in
    database_url: str


@pytest.fixture(scope="module")
def mail_path(service_env, tmp_path_factory):
    with infra.migrated_database("crs_outreach_mail") as url, infra.own_vhost("crs-outreach-mail") as amqp:
        env = dict(service_env, CRS_DATABASE_URL=url, CRS_AMQP_URL=amqp)
        sink = tmp_path_factory.mktemp("outreach-sink")
        with channels_with_sink(env, sink) as (channels, _):
            yield MailPath(env, channels, sink, url)
