"""The end-to-end demo day: load a district, plan, simulate GPS, police, store, write files.

Each step reports through a ``step(name)`` callback so a front end (the CLI) can
show progress; the solver's progress goes through ``solver_progress``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from core.city import generate_district
from core.domain import Alert, District
from core.geojson import day_start_utc, iso_utc, plan_to_geojson
from core.render import render_map
from core.roads import RoadNetwork
from core.serialize import alert_to_dict, load_district, save_district
from core.store import Store
from core.sweep_geojson import sweeping_to_geojson
from routing.solve import SolveParams
from routing.sweeping import SweepResult
from scheduler.pipeline import PlannedDay, plan_day, police_tracks
from scheduler.sweeping import StreetCleaning, demo_street_cleaning, plan_street_cleaning
from telematics.positions_csv import write_positions_csv
from telematics.scenarios import plan_detour
from telematics.simulate import SimulatedDay, simulate_plan, to_positions

STEPS = (
    "load road network",
    "build district",
    "road matrices and plan",
    "sweeping and washing plans",
    "simulate GPS",
    "police tracks",
    "store",
    "write files",
)
"""The demo's steps, in order (for progress bars)."""


@dataclass(frozen=True, slots=True)
class DemoResult:
    """What the demo made and where it wrote it."""

    district: District
    planned: PlannedDay
    simulated: SimulatedDay
    alerts: tuple[Alert, ...]
    plan_id: int
    positions_stored: int
    alerts_stored: int
    files: dict[str, Path]
    cleaning: Mapping[str, SweepResult] = field(default_factory=dict)
    """Street sweeping / washing result per activity (``"sweep"``, ``"wash"``)."""
    sweep_plan_ids: Mapping[str, int] = field(default_factory=dict)
    """Stored sweeping plan id per activity."""


def run_demo(
    *,
    osm_file: Path,
    cache_dir: Path,
    store: Store,
    output_dir: Path,
    day: date,
    params: SolveParams,
    seed: int = 7,
    n_points: int = 300,
    district_file: Path | None = None,
    step: Callable[[str], None] = lambda name: None,
    solver_progress: Callable[[float, float], None] | None = None,
    sweep_time_limit_s: float = 8.0,
    cleaning: StreetCleaning | None = None,
) -> DemoResult:
    """Run the whole spine once and write ``map.png``, ``plan.geojson``, ``alerts.json``.

    Parameters
    ----------
    osm_file, cache_dir
        The road network file and its cache folder.
    day
        The planned day (local to the district's time zone).
    seed
        Seeds the district generator, the detour and the GPS noise.
    district_file
        Plan this district (JSON file) instead of generating one.
    sweep_time_limit_s
        Solver time limit of each street-cleaning activity (s); the other
        search settings (solution limit, workers) are those of ``params``.
    cleaning
        What to sweep and wash (default: :func:`scheduler.sweeping.demo_street_cleaning`).
    """
    step(STEPS[0])
    network = RoadNetwork.load(osm_file, cache_dir)
    step(STEPS[1])
    if district_file is not None:
        district = load_district(district_file)
    else:
        district = generate_district(network, n_points=n_points, seed=seed)
    step(STEPS[2])
    planned = plan_day(district, network, day, params, progress=solver_progress)
    step(STEPS[3])
    cleaning = cleaning or demo_street_cleaning(replace(params, time_limit_s=sweep_time_limit_s))
    cleaned = plan_street_cleaning(district, network, day, cleaning)
    step(STEPS[4])
    rng = np.random.default_rng(seed)
    detour = plan_detour(planned.plan, network, rng)
    simulated = simulate_plan(
        planned.plan,
        day_start_utc=day_start_utc(day, district.timezone),
        seed=seed,
        detours=[detour] if detour is not None else [],
    )
    step(STEPS[5])
    alerts = tuple(
        police_tracks(
            planned.plan,
            simulated.tracks,
            day_start_utc=day_start_utc(day, district.timezone),
            vehicle_limits_mps={v.id: v.max_speed_mps for v in district.vehicles},
        )
    )
    step(STEPS[6])
    store.save_district(district)
    plan_id = store.save_plan(planned.plan)
    sweep_ids = {name: store.save_sweep_plan(r.plan) for name, r in cleaned.items()}
    positions = to_positions(simulated)
    positions_stored = store.add_positions(positions)
    alerts_stored = store.save_alerts(alerts)
    step(STEPS[7])
    output_dir.mkdir(parents=True, exist_ok=True)
    sweeping = [r.plan for r in cleaned.values()]
    files = {
        "map": render_map(
            output_dir / "map.png",
            street_lines=network.edge_lines(),
            district=district,
            plan=planned.plan,
            alerts=alerts,
            sweeping=sweeping,
            title=f"{district.name}, {day.isoformat()}: {len(planned.plan.routes)} routes, "
            f"{len(alerts)} alert(s)",
        ),
        "plan": _write_json(output_dir / "plan.geojson", plan_to_geojson(planned.plan, district)),
        "positions": write_positions_csv(positions, output_dir / "positions.csv"),
        "alerts": _write_json(output_dir / "alerts.json", {"alerts": [_alert_json(a) for a in alerts]}),
        "labels": _write_json(output_dir / "ground_truth.json", {"labels": simulated.labels}),
        "sweeping": _write_json(
            output_dir / "sweeping.geojson", sweeping_to_geojson(sweeping, district.timezone)
        ),
        "district": output_dir / "district.json",
    }
    save_district(district, files["district"])
    return DemoResult(
        district,
        planned,
        simulated,
        alerts,
        plan_id,
        positions_stored,
        alerts_stored,
        files,
        cleaned,
        sweep_ids,
    )


def _alert_json(alert: Alert) -> dict[str, Any]:
    """An alert as JSON with ISO 8601 UTC ``start`` and ``end`` beside the epoch seconds."""
    from datetime import UTC, datetime

    body = alert_to_dict(alert)
    body["start"] = iso_utc(datetime.fromtimestamp(alert.start_utc, UTC))
    body["end"] = iso_utc(datetime.fromtimestamp(alert.end_utc, UTC))
    return body


def _write_json(path: Path, body: Any) -> Path:
    path.write_text(json.dumps(body, indent=1))
    return path
