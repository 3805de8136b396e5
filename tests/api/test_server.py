"""The HTTP API, served for real by uvicorn (``wastefleet serve``) over the demo day's database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from scheduler.demo import DemoResult

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(demo_run: DemoResult, demo_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a running ``wastefleet serve`` on a free loopback port."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": demo_db_url,
        "WASTEFLEET_DATA_DIR": str(tmp_path_factory.mktemp("d")),
    }
    cli = Path(sys.executable).with_name("wastefleet")
    log = tmp_path_factory.mktemp("log") / "server.log"
    out = log.open("wb")
    proc = subprocess.Popen(
        [str(cli), "serve", "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {log.read_text()}")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        out.close()


def test_health_counts_what_is_stored(server: str, demo_run: DemoResult) -> None:
    """/health answers ok with the number of stored plans and positions."""
    body = httpx.get(f"{server}/health").json()
    assert body == {"status": "ok", "plans": 1, "positions": demo_run.positions_stored}


def test_plans_list_and_one_plan(server: str, demo_run: DemoResult) -> None:
    """/plans lists the demo plan; /plans/{id} returns it with every route and stop."""
    listing = httpx.get(f"{server}/plans").json()
    assert listing["count"] == 1
    assert listing["data"][0]["id"] == demo_run.plan_id
    plan = httpx.get(f"{server}/plans/{demo_run.plan_id}").json()
    assert len(plan["routes"]) == len(demo_run.planned.plan.routes)
    assert sum(len(r["stops"]) for r in plan["routes"]) == sum(
        len(r.stops) for r in demo_run.planned.plan.routes
    )
    assert httpx.get(f"{server}/plans/latest").json()["id"] == demo_run.plan_id


def test_plan_geojson(server: str, demo_run: DemoResult) -> None:
    """/plans/{id}/geojson is a FeatureCollection with one route feature per route."""
    geo = httpx.get(f"{server}/plans/{demo_run.plan_id}/geojson").json()
    assert geo["type"] == "FeatureCollection"
    routes = [f for f in geo["features"] if f["properties"]["kind"] == "route"]
    assert len(routes) == len(demo_run.planned.plan.routes)


def test_alerts(server: str, demo_run: DemoResult) -> None:
    """/alerts lists the stored alerts; /alerts/{id} returns evidence; the type filter works."""
    listing = httpx.get(f"{server}/alerts").json()
    assert listing["count"] == len(demo_run.alerts) >= 1
    detours = httpx.get(f"{server}/alerts", params={"type": "detour"}).json()
    assert detours["count"] == 1
    one = httpx.get(f"{server}/alerts/{detours['data'][0]['id']}").json()
    assert one["type"] == "detour"
    assert one["evidence"]["type"] == "FeatureCollection"
    assert httpx.get(f"{server}/alerts", params={"type": "speeding"}).json()["count"] == 0


def test_unknown_ids_are_404_with_a_reason(server: str) -> None:
    """Unknown plan and alert ids give 404 with a message naming the id; bad types give 422."""
    r = httpx.get(f"{server}/plans/9999")
    assert r.status_code == 404
    assert "9999" in r.json()["detail"]
    assert httpx.get(f"{server}/alerts/9999").status_code == 404
    assert httpx.get(f"{server}/alerts", params={"type": "bogus"}).status_code == 422
