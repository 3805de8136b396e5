"""The ingest API in process: JSON batches, OsmAnd, files, live alerts, closing a day.

Requests go through httpx's ASGI transport straight into the app (no server, no
network), one event loop per call.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi import FastAPI

from api.main import create_app
from core.settings import Settings
from core.store import Store
from telematics.simulate import SimulatedTrack, SkipStop, Speeding, simulate_plan
from tests.core.test_serialize import make_district
from tests.telematics.synthetic import DAY, DAY_START_UTC, make_plan, make_route

VEHICLE = "V1"
ROUTE = make_route(VEHICLE, [500.0 * k for k in range(1, 7)], speed_mps=10.0, service_s=90)
PLAN = dataclasses.replace(make_plan(ROUTE), district="synthetic")


class AppClient:
    """A synchronous client calling the app in process."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
                return await c.request(method, url, **kwargs)

        return asyncio.run(go())

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[AppClient]:
    """An app over a fresh store holding a district (vehicles V1, V2) and the day's plan for V1."""
    store = Store.open(f"sqlite:///{tmp_path / 'api.db'}")
    store.save_district(dataclasses.replace(make_district(), name="synthetic", timezone="America/New_York"))
    store.save_plan(PLAN)
    settings = Settings(data_dir=tmp_path, ingest_max_age_s=1e12, osmand_speed_unit="mps")
    yield AppClient(create_app(settings, store))
    store.close()


def records(track: SimulatedTrack, sel: slice | np.ndarray = slice(None)) -> list[dict[str, Any]]:
    """JSON position records of (part of) a simulated track."""
    return [
        {
            "device_id": track.device_id,
            "ts_utc": t,
            "lat": la,
            "lon": lo,
            "speed_mps": v,
            "accuracy_m": a,
            "bin_lifts": int(b),
        }
        for t, la, lo, v, a, b in zip(
            track.ts_utc[sel].tolist(),
            track.lat[sel].tolist(),
            track.lon[sel].tolist(),
            track.speed_mps[sel].tolist(),
            track.accuracy_m[sel].tolist(),
            track.bin_lifts[sel].tolist(),  # type: ignore[index]
            strict=True,
        )
    ]


def test_json_batch_stores_good_records_and_reports_each_bad_one(client: AppClient) -> None:
    """A batch with bad records stores the good ones and lists each rejection with index, field, reason."""
    t = DAY_START_UTC + 30000.0
    batch = [
        {"device_id": VEHICLE, "ts_utc": t, "lat": 39.29, "lon": -76.61},
        {"device_id": VEHICLE, "ts_utc": t + 5, "lat": "NaN", "lon": -76.61},
        {"device_id": "ghost", "ts_utc": t + 6, "lat": 39.29, "lon": -76.61},
        {"device_id": VEHICLE, "ts_utc": t - 5, "lat": 39.29, "lon": -76.61, "speed_mps": -2},
        {"device_id": VEHICLE, "ts_utc": t, "lat": 39.29, "lon": -76.61},
    ]
    body = client.post("/positions", json={"positions": batch}).json()
    assert (body["received"], body["accepted"], body["stored"], body["duplicates"]) == (5, 2, 2, 1)
    reasons = {(r["index"], r["field"], r["kept"]) for r in body["rejected"]}
    assert reasons == {(1, "lat", False), (2, "device_id", False), (3, "speed_mps", True)}
    assert "unknown device" in next(r["reason"] for r in body["rejected"] if r["index"] == 2)
    again = client.post("/positions", json=batch[:1]).json()
    assert (again["stored"], again["duplicates"]) == (0, 1)
    fixes = client.get(f"/positions/{VEHICLE}").json()
    assert [f["ts_utc"] for f in fixes["data"]] == [t - 5, t]


def test_a_body_that_is_no_batch_is_refused_whole(client: AppClient) -> None:
    """Only a body that is not a JSON list of records at all gets 422, with the reason."""
    r = client.post("/positions", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert "not JSON" in r.json()["detail"]
    assert client.post("/positions", json={"fixes": []}).status_code == 422


def test_live_alerts_as_chunks_arrive_and_the_rest_when_the_day_closes(client: AppClient) -> None:
    """Speeding is alerted while fixes stream in; the skipped stop when the day is closed; nothing twice."""
    sim = simulate_plan(PLAN, day_start_utc=DAY_START_UTC, interval_s=5.0, seed=1,
                        events=[SkipStop(VEHICLE, 2), Speeding(VEHICLE, 5, 3.0)])  # fmt: skip
    track = sim.tracks[VEHICLE]
    new: list[str] = []
    for part in np.array_split(np.arange(len(track)), 6):
        new += client.post("/positions", json=records(track, part)).json()["alerts"]
    assert [k.split(":")[0] for k in new] == ["speeding"]
    closed = client.post(f"/days/{DAY.isoformat()}/close", params={"district": "synthetic"}).json()
    kinds = sorted(a["type"] for a in closed["data"])
    assert kinds == ["missed_stop", "speeding"]
    listed = client.get("/alerts").json()
    assert listed["count"] == 2
    client.post(f"/days/{DAY.isoformat()}/close", params={"district": "synthetic"})
    assert client.get("/alerts").json()["count"] == 2
    missed = next(a for a in listed["data"] if a["type"] == "missed_stop")
    assert missed["stop_id"] == ROUTE.stops[2].ref_id
    assert missed["evidence"]["type"] == "FeatureCollection"


def test_gps_jumps_are_stored_but_flagged(client: AppClient) -> None:
    """A fix 3 km off is stored raw and comes back with outlier = true; no alert is raised for it."""
    sim = simulate_plan(PLAN, day_start_utc=DAY_START_UTC, interval_s=5.0, seed=2)
    recs = records(sim.tracks[VEHICLE])
    recs[40]["lat"] += 0.03
    body = client.post("/positions", json=recs).json()
    assert body["alerts"] == []
    fixes = client.get(f"/positions/{VEHICLE}").json()["data"]
    assert [i for i, f in enumerate(fixes) if f["outlier"]] == [40]
    assert fixes[40]["lat"] == pytest.approx(recs[40]["lat"])


def test_osmand_get_post_form_and_json(client: AppClient) -> None:
    """OsmAnd by GET query, POST form and Traccar JSON answers 200 OK; a rejected fix answers 400 with why."""
    t = int(DAY_START_UTC + 40000)
    q = {"id": VEHICLE, "lat": "39.29", "lon": "-76.61", "timestamp": str(t), "speed": "5", "bearing": "10"}
    r = client.get("/osmand", params=q)
    assert (r.status_code, r.text) == (200, "OK")
    r = client.post("/osmand", content=f"id={VEHICLE}&lat=39.3&lon=-76.6&timestamp={t + 5}",
                    headers={"content-type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert r.status_code == 200
    body = {"device_id": VEHICLE, "location": {"timestamp": "2025-03-04T16:07:00Z",
            "coords": {"latitude": 39.29, "longitude": -76.6, "speed": 2.0}}}  # fmt: skip
    assert client.post("/osmand", json=body).status_code == 200
    bad = client.get("/osmand", params=q | {"id": "ghost"})
    assert bad.status_code == 400
    assert "unknown device" in bad.text
    fixes = client.get(f"/positions/{VEHICLE}").json()["data"]
    assert len(fixes) == 3
    assert fixes[0]["speed_mps"] == 5.0


def test_csv_and_parquet_uploads(client: AppClient) -> None:
    """A CSV and a Parquet body are ingested row by row; a malformed row is reported, not fatal."""
    t = DAY_START_UTC + 50000.0
    csv = f"device_id,ts_utc,lat,lon\n{VEHICLE},{t},39.29,-76.61\n{VEHICLE},{t + 5},north,-76.61\n".encode()
    body = client.post("/positions/file", params={"format": "csv"}, content=csv).json()
    assert (body["stored"], [r["index"] for r in body["rejected"]]) == (1, [1])
    table = pa.table(
        {"device_id": ["V2", "V2"], "ts_utc": [t, t + 1], "lat": [39.3, 39.3], "lon": [-76.6, -76.6]}
    )
    buf = io.BytesIO()
    pq.write_table(table, buf)
    body = client.post("/positions/file", params={"format": "parquet"}, content=buf.getvalue()).json()
    assert body["stored"] == 2
    assert client.post("/positions/file", params={"format": "parquet"}, content=b"junk").status_code == 422
