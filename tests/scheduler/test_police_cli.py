"""Store-backed commands: enforcement load, alerts (list, decide, history, evidence), hotspots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from api.cli import main
from core.domain import Alert, AlertType
from core.store import Store

T0 = 1_796_112_000.0


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """DATABASE_URL of a fresh SQLite file, with three illegal dumps at one place and a speeding alert."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    with Store.open(url) as s:
        s.save_alerts(
            [
                Alert(
                    AlertType.ILLEGAL_DUMP,
                    f"H{k}",
                    T0 + 86_400 * k,
                    T0 + 86_400 * k + 300,
                    39.29,
                    -76.61,
                    confidence=0.9,
                )
                for k in range(3)
            ]
            + [Alert(AlertType.SPEEDING, "H1", T0 + 50, T0 + 80, 39.3, -76.6)]
        )
    return url


def out_json(capsys: pytest.CaptureFixture[str]) -> Any:
    """The JSON printed on stdout."""
    return json.loads(capsys.readouterr().out)


def test_alert_lifecycle_through_the_cli(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    """list -> ack -> confirm -> history; an illegal change exits 2 with the reason."""
    assert main(["alerts", "list", "--type", "illegal_dump", "--json"]) == 0
    alerts = out_json(capsys)["alerts"]
    assert isinstance(alerts, list)
    assert len(alerts) == 3
    key = alerts[0]["key"]
    assert main(["alerts", "ack", key, "--officer", "Chen", "--note", "checking the video"]) == 0
    assert main(["alerts", "confirm", key, "--officer", "Chen", "--note", "truck seen tipping"]) == 0
    capsys.readouterr()
    assert main(["alerts", "dismiss", key, "--officer", "Li", "--note", "changed my mind"]) == 2
    assert "cannot go from confirmed to dismissed" in capsys.readouterr().out
    assert main(["alerts", "history", key, "--json"]) == 0
    history = out_json(capsys)
    assert history["status"] == "confirmed"
    assert [(e["to"], e["officer"], e["note"]) for e in history["events"]] == [
        ("acknowledged", "Chen", "checking the video"),
        ("confirmed", "Chen", "truck seen tipping"),
    ]
    other = alerts[1]["key"]
    assert main(["alerts", "dismiss", other, "--officer", "Li", "--note", "legal site"]) == 0
    capsys.readouterr()
    assert main(["alerts", "list", "--status", "new", "--json"]) == 0
    assert len(out_json(capsys)["alerts"]) == 2
    assert main(["alerts", "false-positives", "--json"]) == 0
    assert out_json(capsys) == {"illegal_dump": {"confirmed": 1, "dismissed": 1, "false_positive_rate": 0.5}}


def test_enforcement_load_stores_good_records_and_lists_rejections(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Accepted and rejected counts, each rejection with its line; the good records are stored."""
    tickets = tmp_path / "tickets.csv"
    tickets.write_text(
        "ticket_id,vehicle_id,facility_id,time,gross_kg,tare_kg,net_kg,stream\n"
        "TK1,H1,S1,2026-12-01T23:10:00Z,31000,12500,18500,spoil\n"
        "TK2,H1,S1,2026-12-01T23:50:00Z,31000,12500,1,spoil\n"
    )
    assert main(["enforcement", "load", "tickets", str(tickets)]) == 0
    text = capsys.readouterr().out
    assert "1 accepted and stored, 1 rejected" in text
    assert "line 3 (id 'TK2'): field 'net_kg'" in text
    with Store.open(db) as s:
        assert [t.ticket_id for t in s.tickets()] == ["TK1"]


def test_evidence_and_hotspots_commands(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """evidence writes JSON + PNG; hotspots finds the place where the three dumps recur."""
    with Store.open(db) as s:
        key = s.list_alert_records(type="illegal_dump")[0].key
    target = tmp_path / "case" / "ev.json"
    assert main(["alerts", "evidence", key, "--output", str(target)]) == 0
    assert json.loads(target.read_text())["alert"]["key"] == key
    assert target.with_suffix(".png").exists()
    capsys.readouterr()
    assert main(["hotspots", "--json", "--map", str(tmp_path / "hot.png")]) == 0
    doc = out_json(capsys)
    (spot,) = doc["features"]
    assert spot["properties"]["events"] == 3
    assert spot["properties"]["days"] == 3
    assert (tmp_path / "hot.png").exists()
    assert main(["hotspots", "--json", "--since", "2026-12-02"]) == 0
    (spot,) = out_json(capsys)["features"]
    assert spot["properties"]["events"] == 2
    assert main(["hotspots", "--json", "--since", "2026-12-03"]) == 0
    assert out_json(capsys)["features"] == []  # one dump left: fewer than --min-events 2


def test_police_save_stores_positions_and_alerts_for_the_lifecycle(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--save keeps the fixes and alerts, so they can be listed, decided and exported."""
    from telematics.positions_csv import write_positions_csv
    from tests.scheduler.test_police import drive, straight_plan

    plan = tmp_path / "plan.geojson"
    plan.write_text(json.dumps(straight_plan(segment_speed_kph=[30] * 10)))
    positions = write_positions_csv(drive(15.0), tmp_path / "positions.csv")
    assert main(["police", "--plan", str(plan), "--positions", str(positions), "--save", "--json"]) == 0
    (alert,) = out_json(capsys)["alerts"]
    assert alert["type"] == "speeding"
    with Store.open(db) as s:
        assert s.get_alert_record(alert["key"]).status.value == "new"
        assert len(s.positions("V1")) == len(drive(15.0))
