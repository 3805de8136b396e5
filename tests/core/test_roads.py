"""Tests of core.roads: the offline drive network, its matrices, routes, snapping and cache."""

from __future__ import annotations

import bz2
import gzip
import itertools
import math
import re
from collections.abc import Callable
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

import core.roads as roads
from core._osm_filter import DRIVE_EXCLUDE, is_drive_way
from core.errors import RoadNetworkError, ValidationError
from core.geo import haversine_m
from core.roads import RoadNetwork, RoadPath

DATA = Path(__file__).resolve().parents[2] / "core" / "data"
OAKLAND = DATA / "west-oakland.osm.bz2"
BALTIMORE = DATA / "baltimore.osm.bz2"


@pytest.fixture(scope="module")
def oakland(tmp_path_factory: pytest.TempPathFactory) -> RoadNetwork:
    """The tiny West Oakland network (loaded once, cached in a temp folder)."""
    return RoadNetwork.load(OAKLAND, tmp_path_factory.mktemp("oakland-cache"))


@pytest.fixture(scope="module")
def baltimore_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache folder for the Baltimore network."""
    return tmp_path_factory.mktemp("baltimore-cache")


@pytest.fixture(scope="module")
def baltimore(baltimore_cache: Path) -> RoadNetwork:
    """The Baltimore network (about 2,100 nodes), loaded once per module."""
    return RoadNetwork.load(BALTIMORE, baltimore_cache)


def _fastest_edge(graph: nx.MultiDiGraph, u: int, v: int) -> dict:
    """The attributes of the fastest of the parallel edges u -> v."""
    return min(graph[u][v].values(), key=lambda d: (d["travel_time"], d["length"]))


def _random_pairs(net: RoadNetwork, k: int, seed: int) -> list[tuple[int, int]]:
    rng = np.random.default_rng(seed)
    n = len(net.osm_ids)
    return [(int(a), int(b)) for a, b in zip(rng.integers(0, n, k), rng.integers(0, n, k), strict=True)]


# --------------------------------------------------------------------------- the drive filter


def test_drive_filter_mirrors_osmnx() -> None:
    """The exclusion table equals osmnx's own "drive" Overpass filter (so they cannot drift apart)."""
    from osmnx import _overpass, settings

    osmnx_filter = _overpass._get_network_filter("drive")
    assert osmnx_filter.startswith('["highway"]')
    assert settings.default_access == '["access"!~"private"]'
    parsed = dict(re.findall(r'\["([^"]+)"!~"([^"]+)"\]', osmnx_filter))
    assert parsed == DRIVE_EXCLUDE


@pytest.mark.parametrize(
    ("tags", "kept"),
    [
        ({"highway": "residential"}, True),
        ({"highway": "primary", "access": "yes", "maxspeed": "25 mph"}, True),
        ({"highway": "motorway_link", "service": "bus"}, True),
        ({"building": "yes"}, False),
        ({"railway": "rail"}, False),
        ({"highway": "service"}, False),
        ({"highway": "footway"}, False),
        ({"highway": "primary", "area": "yes"}, False),
        ({"highway": "primary", "access": "private"}, False),
        ({"highway": "tertiary", "motor_vehicle": "no"}, False),
        ({"highway": "tertiary", "motorcar": "no"}, False),
        ({"highway": "residential", "service": "driveway"}, False),
    ],
)
def test_is_drive_way(tags: dict[str, str], kept: bool) -> None:
    """A way is kept exactly when it has a highway tag and no drive-exclusion tag matches."""
    assert is_drive_way(tags) is kept


# --------------------------------------------------------------------------- graph content


def _check_drive_graph(net: RoadNetwork) -> None:
    g = net.graph
    assert g.number_of_edges() > 0
    for _, _, data in g.edges(data=True):
        classes = data["highway"] if isinstance(data["highway"], list) else [data["highway"]]
        assert classes
        for hwy in classes:
            assert isinstance(hwy, str)
            assert is_drive_way({"highway": hwy}), hwy
        assert math.isfinite(data["travel_time"])
        assert data["travel_time"] >= 0
        assert math.isfinite(data["length"])
        assert data["length"] >= 0
        assert data["speed_kph"] > 0


def _check_node_arrays(net: RoadNetwork) -> None:
    n = net.graph.number_of_nodes()
    assert net.osm_ids.dtype == np.int64
    assert net.lat.dtype == np.float64
    assert net.lon.dtype == np.float64
    assert net.osm_ids.shape == net.lat.shape == net.lon.shape == (n,)
    assert np.all(np.diff(net.osm_ids) > 0)
    for i in (0, n // 2, n - 1):
        node = net.graph.nodes[int(net.osm_ids[i])]
        assert (net.lat[i], net.lon[i]) == (node["y"], node["x"])


def test_oakland_graph_is_drivable_highways_only(oakland: RoadNetwork) -> None:
    """Every edge is a drivable highway class with finite length, speed and travel time."""
    _check_drive_graph(oakland)


def test_oakland_graph_is_strongly_connected(oakland: RoadNetwork) -> None:
    """The graph is one strongly connected component (the known SCC size of 22) and arrays match it."""
    assert nx.is_strongly_connected(oakland.graph)
    assert oakland.graph.number_of_nodes() == 22
    _check_node_arrays(oakland)


@pytest.mark.slow
def test_baltimore_graph_is_drivable_and_strongly_connected(baltimore: RoadNetwork) -> None:
    """Baltimore: drivable highway edges only, finite travel times, one SCC of the expected size."""
    _check_drive_graph(baltimore)
    assert nx.is_strongly_connected(baltimore.graph)
    assert 2000 <= baltimore.graph.number_of_nodes() <= 2300
    _check_node_arrays(baltimore)


# --------------------------------------------------------------------------- matrices and routes


def _check_matrix_against_networkx(net: RoadNetwork, pairs: list[tuple[int, int]]) -> None:
    src = np.array([a for a, _ in pairs])
    tgt = np.array([b for _, b in pairs])
    times, dists = net.matrices(src, tgt)
    assert times.shape == dists.shape == (len(pairs), len(pairs))
    same_path = 0
    for k, (a, b) in enumerate(pairs):
        u, v = int(net.osm_ids[a]), int(net.osm_ids[b])
        assert times[k, k] == pytest.approx(
            nx.shortest_path_length(net.graph, u, v, weight="travel_time"), rel=1e-9, abs=1e-9
        )
        nx_path = nx.dijkstra_path(net.graph, u, v, weight="travel_time")
        ours = [int(net.osm_ids[i]) for i in net.route(a, b).nodes]
        if ours == nx_path:  # no tie between equally fast paths
            same_path += 1
            length = sum(_fastest_edge(net.graph, p, q)["length"] for p, q in itertools.pairwise(nx_path))
            assert dists[k, k] == pytest.approx(length, rel=1e-9, abs=1e-9)
    assert same_path >= 0.8 * len(pairs)


def test_oakland_matrix_equals_networkx_all_pairs(oakland: RoadNetwork) -> None:
    """Matrix times equal networkx fastest-path lengths, distances the lengths along that path (all pairs)."""
    n = len(oakland.osm_ids)
    _check_matrix_against_networkx(oakland, list(itertools.product(range(n), range(n))))


@pytest.mark.slow
def test_baltimore_matrix_equals_networkx(baltimore: RoadNetwork) -> None:
    """On 30 random Baltimore pairs, matrix time and distance equal networkx's fastest path."""
    _check_matrix_against_networkx(baltimore, _random_pairs(baltimore, 30, seed=7))


def test_matrix_shapes_duplicates_and_diagonal(oakland: RoadNetwork) -> None:
    """Shape is [S, T]; repeated sources give identical rows; node-to-itself is 0 s and 0 m; all finite."""
    src = np.array([3, 0, 3, 5, 0])
    tgt = np.array([0, 3, 5, 7])
    times, dists = oakland.matrices(src, tgt)
    assert times.shape == dists.shape == (5, 4)
    assert times.dtype == dists.dtype == np.float64
    np.testing.assert_array_equal(times[0], times[2])
    np.testing.assert_array_equal(dists[1], dists[4])
    assert times[0, 1] == dists[0, 1] == 0.0
    assert times[1, 0] == dists[1, 0] == 0.0
    assert np.isfinite(times).all()
    assert np.isfinite(dists).all()
    full_t, full_d = oakland.matrices(np.arange(len(oakland.osm_ids)), np.arange(len(oakland.osm_ids)))
    assert (np.diag(full_t) == 0).all()
    assert (np.diag(full_d) == 0).all()
    assert (full_t[~np.eye(len(full_t), dtype=bool)] > 0).all()


def test_matrix_input_validation(oakland: RoadNetwork) -> None:
    """Empty inputs give empty matrices; out-of-range, float or 2-D indices raise ValidationError."""
    t, d = oakland.matrices([], [1, 2])
    assert t.shape == d.shape == (0, 2)
    t, d = oakland.matrices([1, 2], np.array([], dtype=np.int64))
    assert t.shape == d.shape == (2, 0)
    n = len(oakland.osm_ids)
    for bad in ([n], [-1], [0.5], [[0, 1]]):
        with pytest.raises(ValidationError):
            oakland.matrices(bad, [0])
    with pytest.raises(ValidationError):
        oakland.route(0, n)
    with pytest.raises(ValidationError):
        oakland.route(0.0, 1)  # type: ignore[arg-type]


def _check_route(net: RoadNetwork, pairs: list[tuple[int, int]]) -> None:
    src = np.array([a for a, _ in pairs])
    tgt = np.array([b for _, b in pairs])
    times, dists = net.matrices(src, tgt)
    for k, (a, b) in enumerate(pairs):
        path = net.route(a, b)
        assert isinstance(path, RoadPath)
        assert path.time_s == times[k, k]
        assert path.length_m == dists[k, k]
        assert path.nodes[0] == a
        assert path.nodes[-1] == b
        assert path.coords[0] == (net.lat[a], net.lon[a])
        assert path.coords[-1] == (net.lat[b], net.lon[b])
        edges = [
            _fastest_edge(net.graph, int(net.osm_ids[p]), int(net.osm_ids[q]))
            for p, q in itertools.pairwise(path.nodes)
        ]
        assert sum(e["travel_time"] for e in edges) == pytest.approx(path.time_s, rel=1e-9, abs=1e-9)
        assert sum(e["length"] for e in edges) == pytest.approx(path.length_m, rel=1e-9, abs=1e-9)
        # the drawn geometry follows the real edge shapes: its length is the edge length (osmnx
        # sums great-circle segments), which a wrongly oriented or straight-cut edge would break
        lat = np.array([c[0] for c in path.coords])
        lon = np.array([c[1] for c in path.coords])
        drawn = float(haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:]).sum())
        assert drawn == pytest.approx(path.length_m, rel=1e-4, abs=0.01)
        if a != b:
            assert len(path.coords) >= len(path.nodes)


def test_oakland_route_agrees_with_matrix(oakland: RoadNetwork) -> None:
    """route() time and length equal the matrix entries exactly; its geometry starts and ends at the nodes."""
    n = len(oakland.osm_ids)
    _check_route(oakland, list(itertools.product(range(n), range(0, n, 3))))


@pytest.mark.slow
def test_baltimore_route_agrees_with_matrix(baltimore: RoadNetwork) -> None:
    """On random Baltimore pairs, route() equals the matrix entries and follows curved edge geometry."""
    _check_route(baltimore, _random_pairs(baltimore, 40, seed=11))
    curved = 0
    for a, b in _random_pairs(baltimore, 10, seed=3):
        for p, q in itertools.pairwise(baltimore.route(a, b).nodes):
            edge = _fastest_edge(baltimore.graph, int(baltimore.osm_ids[p]), int(baltimore.osm_ids[q]))
            curved += "geometry" in edge
    assert curved > 0  # the geometry branch really ran


def test_route_to_itself(oakland: RoadNetwork) -> None:
    """A route from a node to itself is that one node, one coordinate, 0 m and 0 s."""
    path = oakland.route(4, 4)
    assert path == RoadPath(nodes=(4,), coords=((oakland.lat[4], oakland.lon[4]),), length_m=0.0, time_s=0.0)


def test_fastest_not_shortest_on_synthetic_graph() -> None:
    """Parallel edges keep the fastest; distance is along the fastest path, not the shortest distance."""
    g = nx.MultiDiGraph()
    for osm_id, (x, y) in {10: (0.0, 0.0), 20: (0.001, 0.0), 30: (0.002, 0.0), 40: (0.001, 0.001)}.items():
        g.add_node(osm_id, x=x, y=y)
    g.add_edge(10, 30, length=200.0, travel_time=100.0)  # short but slow
    g.add_edge(10, 20, length=150.0, travel_time=10.0)  # long but fast
    g.add_edge(20, 30, length=150.0, travel_time=10.0)
    g.add_edge(20, 30, length=90.0, travel_time=50.0)  # slower parallel edge, ignored
    g.add_edge(30, 40, length=5.0, travel_time=0.0)  # a zero-time edge is still an edge
    net = RoadNetwork(g)
    times, dists = net.matrices([0], [1, 2, 3])
    np.testing.assert_array_equal(times, [[10.0, 20.0, 20.0]])
    np.testing.assert_array_equal(dists, [[150.0, 300.0, 305.0]])
    path = net.route(0, 3)
    assert path.nodes == (0, 1, 2, 3)
    assert (path.time_s, path.length_m) == (20.0, 305.0)
    times, dists = net.matrices([3], [0])
    assert np.isinf(times).all()
    assert np.isinf(dists).all()
    with pytest.raises(RoadNetworkError, match="no road path"):
        net.route(3, 0)


# --------------------------------------------------------------------------- snapping, drawing


def _check_nearest(net: RoadNetwork, seed: int) -> None:
    west, south, east, north = net.bbox
    rng = np.random.default_rng(seed)
    lat = rng.uniform(south, north, 300)
    lon = rng.uniform(west, east, 300)
    idx, dist = net.nearest_nodes(lat, lon)
    assert idx.dtype == np.int64
    assert dist.dtype == np.float64
    assert idx.shape == dist.shape == (300,)
    all_d = haversine_m(lat[:, None], lon[:, None], net.lat[None, :], net.lon[None, :])
    best = all_d.min(axis=1)
    np.testing.assert_allclose(dist, all_d[np.arange(300), idx])
    np.testing.assert_allclose(dist, best, rtol=2e-3)  # equirectangular search vs exact minimum
    assert (np.argmin(all_d, axis=1) == idx).mean() > 0.98
    # a node's own position snaps to itself at 0 m
    own, own_d = net.nearest_nodes(net.lat, net.lon)
    np.testing.assert_array_equal(own, np.arange(len(net.osm_ids)))
    np.testing.assert_allclose(own_d, 0.0, atol=1e-6)


def test_oakland_nearest_nodes_matches_brute_force(oakland: RoadNetwork) -> None:
    """nearest_nodes agrees with a brute-force great-circle search and snaps nodes to themselves."""
    _check_nearest(oakland, seed=1)


@pytest.mark.slow
def test_baltimore_nearest_nodes_matches_brute_force(baltimore: RoadNetwork) -> None:
    """On Baltimore, nearest_nodes agrees with a brute-force great-circle search."""
    _check_nearest(baltimore, seed=2)


def test_nearest_nodes_shapes_and_validation(oakland: RoadNetwork) -> None:
    """Scalars give 0-d results, 2-D inputs keep their shape, and NaN raises ValidationError."""
    i, d = oakland.nearest_nodes(float(oakland.lat[5]), float(oakland.lon[5]))
    assert i.shape == ()
    assert int(i) == 5
    assert float(d) == pytest.approx(0.0, abs=1e-6)
    i, d = oakland.nearest_nodes(oakland.lat[:6].reshape(2, 3), oakland.lon[:6].reshape(2, 3))
    assert i.shape == d.shape == (2, 3)
    i, d = oakland.nearest_nodes([], [])
    assert i.shape == d.shape == (0,)
    with pytest.raises(ValidationError):
        oakland.nearest_nodes([math.nan], [0.0])


def test_edge_lines_and_bbox(oakland: RoadNetwork) -> None:
    """edge_lines gives one (k, 2) lon/lat polyline and class per edge; bbox covers them all."""
    lines = oakland.edge_lines()
    assert len(lines) == oakland.graph.number_of_edges()
    west, south, east, north = oakland.bbox
    assert west < east
    assert south < north
    for xy, hwy in lines:
        assert xy.ndim == 2
        assert xy.shape[1] == 2
        assert xy.shape[0] >= 2
        assert isinstance(hwy, str)
        assert is_drive_way({"highway": hwy})
        assert (west <= xy[:, 0]).all()
        assert (xy[:, 0] <= east).all()
        assert (south <= xy[:, 1]).all()
        assert (xy[:, 1] <= north).all()
    assert west <= oakland.lon.min()
    assert oakland.lon.max() <= east
    assert south <= oakland.lat.min()
    assert oakland.lat.max() <= north


# --------------------------------------------------------------------------- loading and cache


def _assert_same_network(a: RoadNetwork, b: RoadNetwork) -> None:
    np.testing.assert_array_equal(a.osm_ids, b.osm_ids)
    np.testing.assert_array_equal(a.lat, b.lat)
    np.testing.assert_array_equal(a.lon, b.lon)
    assert a.source_hash == b.source_hash
    idx = np.arange(len(a.osm_ids))
    for x, y in zip(a.matrices(idx, idx), b.matrices(idx, idx), strict=True):
        np.testing.assert_array_equal(x, y)


def test_cache_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A second load comes from the cache (osmnx is not called) and gives identical arrays and matrices."""
    cold = RoadNetwork.load(OAKLAND, tmp_path)
    assert not cold.from_cache
    assert len(cold.source_hash) == 64
    assert len(list(tmp_path.glob(f"roads-{cold.source_hash}-*.pkl"))) == 1

    def no_build(*args: object) -> None:
        raise AssertionError("the graph was rebuilt instead of read from the cache")

    monkeypatch.setattr(roads, "_build_graph", no_build)
    warm = RoadNetwork.load(OAKLAND, tmp_path)
    assert warm.from_cache
    _assert_same_network(cold, warm)
    with pytest.raises(AssertionError, match="rebuilt"):  # another fallback speed is another cache entry
        RoadNetwork.load(OAKLAND, tmp_path, fallback_kph=30.0)


def test_corrupt_cache_is_rebuilt(tmp_path: Path) -> None:
    """An unreadable cache file is ignored and replaced by a good one."""
    first = RoadNetwork.load(OAKLAND, tmp_path)
    (cache_file,) = tmp_path.glob("roads-*.pkl")
    cache_file.write_bytes(b"not a pickle")
    again = RoadNetwork.load(OAKLAND, tmp_path)
    assert not again.from_cache
    _assert_same_network(first, again)
    assert RoadNetwork.load(OAKLAND, tmp_path).from_cache


def test_fallback_speed_drives_travel_times(oakland: RoadNetwork) -> None:
    """West Oakland has no maxspeed tags, so every edge runs at the fallback speed (km/h)."""
    net = RoadNetwork.load(OAKLAND, None, fallback_kph=36.0)
    for _, _, data in net.graph.edges(data=True):
        assert data["speed_kph"] == 36.0
        assert data["travel_time"] == pytest.approx(data["length"] / 10.0, abs=0.1)
    np.testing.assert_array_equal(net.osm_ids, oakland.osm_ids)


@pytest.mark.slow
def test_baltimore_cache_round_trip(baltimore: RoadNetwork, baltimore_cache: Path) -> None:
    """Reloading Baltimore from its cache gives identical arrays and matrices."""
    warm = RoadNetwork.load(BALTIMORE, baltimore_cache)
    assert warm.from_cache
    assert not baltimore.from_cache
    np.testing.assert_array_equal(warm.osm_ids, baltimore.osm_ids)
    np.testing.assert_array_equal(warm.lat, baltimore.lat)
    np.testing.assert_array_equal(warm.lon, baltimore.lon)
    idx = np.arange(0, len(warm.osm_ids), 7)
    for x, y in zip(warm.matrices(idx, idx), baltimore.matrices(idx, idx), strict=True):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("compress", [lambda b: b, gzip.compress], ids=["plain", "gzip"])
def test_plain_and_gzip_xml_load_like_bz2(
    tmp_path: Path, oakland: RoadNetwork, compress: Callable[[bytes], bytes]
) -> None:
    """Plain and gzip XML (compression detected from content, not the name) give the same network."""
    plain = tmp_path / "west-oakland.osm"
    plain.write_bytes(compress(bz2.decompress(OAKLAND.read_bytes())))
    net = RoadNetwork.load(plain)
    np.testing.assert_array_equal(net.osm_ids, oakland.osm_ids)
    np.testing.assert_array_equal(net.matrices([0, 1], [2, 3])[0], oakland.matrices([0, 1], [2, 3])[0])


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("garbage.osm", b"this is not xml at all", "cannot read OSM XML"),
        ("garbage.osm.bz2", b"BZh9 certainly not bzip2 data", "cannot read OSM XML"),
        ("empty.osm", b"", "cannot read OSM XML"),
        ("truncated.osm", b"<osm version='0.6'><node id='1' lat='1' lon='2'>", "cannot read OSM XML"),
        ("other.xml", b"<gpx><trk/></gpx>", "not <osm>"),
        (
            "paths.osm",
            b"<osm version='0.6'><node id='1' lat='37.8' lon='-122.3'/>"
            b"<node id='2' lat='37.81' lon='-122.3'/>"
            b"<way id='5'><nd ref='1'/><nd ref='2'/><tag k='highway' v='footway'/></way></osm>",
            "no drivable roads",
        ),
    ],
)
def test_bad_files_raise_road_network_error(tmp_path: Path, name: str, content: bytes, match: str) -> None:
    """Garbage, truncated, non-OSM or road-less files raise RoadNetworkError naming the file."""
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(RoadNetworkError, match=match) as info:
        RoadNetwork.load(path, tmp_path / "cache")
    assert str(path) in str(info.value)


def test_missing_file_and_bad_fallback(tmp_path: Path) -> None:
    """A missing file raises RoadNetworkError naming it; a bad fallback speed raises ValidationError."""
    missing = tmp_path / "nowhere.osm.bz2"
    with pytest.raises(RoadNetworkError, match=re.escape(str(missing))):
        RoadNetwork.load(missing)
    with pytest.raises(RoadNetworkError, match="does not exist"):
        RoadNetwork.load(tmp_path)  # a folder is not a file
    for bad in (0.0, -5.0, math.nan, math.inf):
        with pytest.raises(ValidationError, match="fallback_kph"):
            RoadNetwork.load(OAKLAND, fallback_kph=bad)
