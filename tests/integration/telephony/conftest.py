"""One SIP edge and one telephony service for the package's tests, on free ports, with a bus listener."""

from __future__ import annotations

import pytest

from tests.integration.telephony.stack import BusListener, start_edge, start_telephony


@pytest.fixture(scope="package")
def sip_tmp(tmp_path_factory):
    return tmp_path_factory.mktemp("sip")


@pytest.fixture(scope="package")
def edge(sip_tmp):
    process, address = start_edge(sip_tmp)
    yield address
    assert process.stop() == 0, process.log()[-3000:]


@pytest.fixture(scope="package")
def telephony(sip_tmp, edge, amqp_url):
    service = start_telephony(sip_tmp, amqp_url=amqp_url, edge=edge)
    yield service
    # A crash or an unclean drain during the package's tests shows here.
    assert service.process.stop() == 0, service.process.log()[-3000:]


@pytest.fixture
def bus(amqp_url):
    listener = BusListener(amqp_url)
    yield listener
    listener.close()
