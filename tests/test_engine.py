"""The local engine manager against the real OpenSearch node."""

from __future__ import annotations

import socket

import pytest

from aggregator.engine import EngineError, LocalEngine, _http_json


def test_engine_answers_with_english_analyzer_and_reindex(engine):
    root = _http_json(engine + "/")
    assert root["version"]["distribution"] == "opensearch"
    assert root["version"]["number"].startswith("2.19")
    import json
    import urllib.request

    req = urllib.request.Request(
        engine + "/_analyze", data=json.dumps({"analyzer": "english", "text": "Batteries charging"}).encode(),
        headers={"content-type": "application/json"},
    )
    tokens = [t["token"] for t in json.load(urllib.request.urlopen(req))["tokens"]]
    assert tokens == ["batteri", "charg"]


def test_start_refuses_a_port_taken_by_another_program(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        eng = LocalEngine(home=tmp_path / "engine", port=port)
        with pytest.raises(EngineError, match="already taken"):
            eng.start()
    assert not eng.status().running


def test_status_and_stop_when_not_running(tmp_path):
    eng = LocalEngine(home=tmp_path / "engine", port=1)
    assert eng.status().running is False
    assert eng.stop() is False
