"""False alarms on a real drive: the Newson & Krumm Bellevue trace against its own path.

The trace (1,410 fixes at 1 Hz, 23.5 min; ../shared/data/gps) is a real car
drive that lies on the OSM map of ../shared/data/osm/bellevue-wa.osm.bz2. Its
own path is taken as the plan: every fix is matched to its nearest road segment
and the corridor runs through those segments in the order driven. Driving that
path with real GPS noise must raise no detour, no GPS gap and no GPS jump.
(Speeding is not judged: nobody knows how fast the driver really went.)

Data: Newson & Krumm, "Hidden Markov Map Matching Through Noise and Sparseness",
ACM SIGSPATIAL GIS 2009; map data (c) OpenStreetMap contributors, ODbL.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from core.domain import AlertType
from core.roads import RoadNetwork
from telematics import kernels
from telematics.checks import CheckRules, TrackColumns, VehicleChecker, check_track
from telematics.corridor import RouteCorridor
from telematics.ingest import IngestRules, parse_file
from telematics.limits import RoadLimits

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
TRACE = DATA / "gps" / "newson_krumm_2009_bellevue_segment.csv"
MAP = DATA / "osm" / "bellevue-wa.osm.bz2"


@pytest.fixture(scope="module")
def bellevue(tmp_path_factory: pytest.TempPathFactory) -> tuple[RoadNetwork, TrackColumns]:
    """The Bellevue drive network and the real trace, read through the file ingest."""
    network = RoadNetwork.load(MAP, tmp_path_factory.mktemp("bellevue-cache"))
    batch = parse_file(TRACE, rules=IngestRules(max_age_s=math.inf), device_id="car")
    assert batch.refused == []
    return network, TrackColumns.from_positions(batch.positions)


def own_path(network: RoadNetwork, track: TrackColumns) -> RouteCorridor:
    """The corridor through the road segments nearest to each fix, in the order driven."""
    roads = RoadLimits.from_network(network)
    x, y = kernels.project_equirectangular(track.lat, track.lon, roads.lat0, roads.lon0)
    _, seg, _ = kernels.corridor_nearest(
        x, y, roads.grid_x0, roads.grid_y0, roads.cell_m, roads.nx, roads.ny, roads.cell_start,
        roads.cell_pack, roads.match_m,
    )  # fmt: skip
    order = [s for k, s in enumerate(seg.tolist()) if s >= 0 and (k == 0 or s != seg[k - 1])]
    px = np.ravel(np.column_stack((roads.ax[order], roads.bx[order])))
    py = np.ravel(np.column_stack((roads.ay[order], roads.by[order])))
    lat, lon = kernels.unproject_equirectangular(px, py, roads.lat0, roads.lon0)
    return RouteCorridor.from_coords(np.column_stack((lat, lon)))


def test_the_trace_is_a_real_drive_on_the_map(bellevue: tuple[RoadNetwork, TrackColumns]) -> None:
    """1,410 fixes over 23.5 min, and 95 % of them within 10 m of the corridor of their own path."""
    network, track = bellevue
    assert len(track) == 1410
    assert track.ts_utc[-1] - track.ts_utc[0] == pytest.approx(23.5 * 60, abs=5)
    dist = own_path(network, track).distance_m(track.lat, track.lon)
    assert np.percentile(dist, 95) < 10.0


def test_no_false_alarm_following_its_own_path(bellevue: tuple[RoadNetwork, TrackColumns]) -> None:
    """Against its own path (fixes pushed a minute at a time) the drive raises no detour, gap or jump."""
    network, track = bellevue
    rules = CheckRules(checks=frozenset({AlertType.DETOUR, AlertType.GPS_GAP}))
    checker = VehicleChecker("car", rules=rules, corridor=own_path(network, track))
    alerts = []
    for k in range(0, len(track), 60):  # a minute at a time, as a tracker buffering uploads would
        sel = slice(k, k + 60)
        alerts += checker.push(track.ts_utc[sel], track.lat[sel], track.lon[sel])
    alerts += checker.close()
    assert alerts == []
    _, outlier = checker.outliers()
    assert not outlier.any()


def test_a_detour_from_the_real_path_is_found(bellevue: tuple[RoadNetwork, TrackColumns]) -> None:
    """Control: the same fixes 300 m north for two minutes mid-drive are one detour."""
    network, track = bellevue
    lat = track.lat.copy()
    lat[600:720] += 300.0 / 111_195.0
    moved = TrackColumns.from_arrays(track.ts_utc, lat, track.lon)
    rules = CheckRules(checks=frozenset({AlertType.DETOUR, AlertType.GPS_GAP}), jump_max_speed_mps=math.inf)
    result = check_track(VehicleChecker("car", rules=rules, corridor=own_path(network, track)), moved)
    (alert,) = result.alerts
    assert alert.type == AlertType.DETOUR
    assert alert.start_utc == pytest.approx(track.ts_utc[600], abs=2)
