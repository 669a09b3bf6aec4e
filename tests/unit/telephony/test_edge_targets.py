"""The edge's list of telephony replicas: what kamailio's dispatcher is given, and what stops the edge."""

from __future__ import annotations

import pytest

from services.telephony import edge


def test_each_replica_becomes_a_dispatcher_target_in_set_one(tmp_path, monkeypatch):
    monkeypatch.setenv("CRS_SIP_EDGE_TELEPHONY_TARGETS", "127.0.0.1:5071, 10.0.0.2:5072")
    arguments = edge.dispatcher_arguments(str(tmp_path))
    assert "WITH_DISPATCHER" in arguments
    assert (tmp_path / "dispatcher.list").read_text() == "1 sip:127.0.0.1:5071 0 0\n1 sip:10.0.0.2:5072 0 0\n"


def test_without_targets_the_edge_keeps_its_single_registered_binding(tmp_path, monkeypatch):
    monkeypatch.delenv("CRS_SIP_EDGE_TELEPHONY_TARGETS", raising=False)
    assert edge.dispatcher_arguments(str(tmp_path)) == []
    assert not (tmp_path / "dispatcher.list").exists()


@pytest.mark.parametrize("item", ["127.0.0.1", ":5070", "127.0.0.1:0", "127.0.0.1:http", "host:70000"])
def test_a_malformed_target_stops_the_edge_naming_it(item):
    with pytest.raises(SystemExit, match="CRS_SIP_EDGE_TELEPHONY_TARGETS"):
        edge.telephony_targets(f"127.0.0.1:5071,{item}")
