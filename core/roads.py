"""The offline road network: a drivable OSM graph, travel-time matrices and routes.

:meth:`RoadNetwork.load` reads an OSM XML file (plain, ``.bz2`` or ``.gz``) with no
network access:

1. a streaming pass (:mod:`core._osm_filter`) keeps the ways osmnx's ``"drive"``
   network would keep, and the nodes they reference;
2. ``ox.graph_from_xml`` builds and simplifies the graph;
3. ``ox.add_edge_speeds(fallback=...)`` and ``ox.add_edge_travel_times`` add
   ``speed_kph`` (km/h) and ``travel_time`` (s) to every edge;
4. only the largest strongly connected component is kept, so every node can
   reach every other.

The result is pickled in ``cache_dir`` under the file's sha256 and the fallback
speed, so later loads skip osmnx entirely (and do not even import it).

Nodes are addressed by *index* ``0..n-1`` (OSM ids sorted ascending); ``osm_ids``
maps back. All paths are *fastest* paths by ``travel_time``; distances are the
length of that same fastest path, not the shortest distance.

Map data © OpenStreetMap contributors, ODbL 1.0.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import math
import operator
import os
import pickle
import tempfile
import time
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

import networkx as nx
import numba
import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from core._osm_filter import filter_drive_xml
from core.errors import RoadNetworkError, ValidationError
from core.geo import LocalProjection, haversine_m

__all__ = ["RoadNetwork", "RoadPath"]

log = logging.getLogger(__name__)

_CACHE_FORMAT = 1
"""Bump when the cached payload or the way it is built changes."""

_MATRIX_BLOCK_CELLS = 4_000_000
"""Dijkstra rows are computed in blocks of at most this many (row x node) cells (bounds memory)."""


@dataclass(frozen=True, slots=True)
class RoadPath:
    """The fastest road path between two nodes.

    Attributes
    ----------
    nodes
        Node indices (``0..n-1``) along the path, source first, target last.
    coords
        ``(lat, lon)`` geometry in degrees following the edges' real shape; the
        first pair is the source node, the last the target node. A path from a
        node to itself has one node and one coordinate pair.
    length_m
        Length of the path (m); equals ``RoadNetwork.matrices`` distance.
    time_s
        Travel time of the path (s); equals ``RoadNetwork.matrices`` time.
    """

    nodes: tuple[int, ...]
    coords: tuple[tuple[float, float], ...]
    length_m: float
    time_s: float


@numba.njit(cache=True)
def _tree_lengths(
    pred: NDArray[np.int32],
    roots: NDArray[np.int64],
    indptr: NDArray[np.int32],
    indices: NDArray[np.int32],
    weights: NDArray[np.float64],
) -> NDArray[np.float64]:  # pragma: no cover - compiled
    """Sum edge ``weights`` along each row's shortest-path tree, root outwards.

    ``pred[r, v]`` is v's predecessor from ``dijkstra`` rooted at ``roots[r]``
    (negative at the root and at unreachable nodes). Each node's value is its
    parent's value plus the weight of the CSR edge parent -> node, so sums are
    accumulated in path order (the same order :meth:`RoadNetwork.route` uses).
    Unreachable nodes get ``inf``.
    """
    n_rows, n = pred.shape
    out = np.full((n_rows, n), np.inf)
    done = np.zeros(n, dtype=np.bool_)
    stack = np.empty(n, dtype=np.int64)
    for r in range(n_rows):
        done[:] = False
        row = out[r]
        prow = pred[r]
        root = roots[r]
        row[root] = 0.0
        done[root] = True
        for v in range(n):
            top = 0
            w = v
            while not done[w]:
                p = prow[w]
                if p < 0:
                    break
                stack[top] = w
                top += 1
                w = p
            if not done[w]:
                # the chain ends at a node with no predecessor that is not the root
                done[w] = True
                for i in range(top):
                    done[stack[i]] = True
                continue
            for i in range(top - 1, -1, -1):
                x = stack[i]
                p = prow[x]
                wgt = np.inf
                for e in range(indptr[p], indptr[p + 1]):
                    if indices[e] == x:
                        wgt = weights[e]
                        break
                row[x] = row[p] + wgt
                done[x] = True
    return out


def _sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _osmnx_version() -> str:
    """Installed osmnx version, without importing osmnx (which is slow)."""
    try:
        return version("osmnx")
    except PackageNotFoundError:  # pragma: no cover
        return "unknown"


def _highway_class(value: Any) -> str:
    """One highway class string from an edge's ``highway`` attribute (first one of a list)."""
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    return "unknown" if value is None else str(value)


def _build_graph(osm_path: Path, fallback_kph: float) -> nx.MultiDiGraph:
    """Filter, load, add speeds and travel times, keep the largest SCC (see module docstring)."""
    with tempfile.TemporaryDirectory(prefix="wastefleet-roads-") as tmp:
        drive_osm = Path(tmp) / "drive.osm"
        try:
            stats = filter_drive_xml(osm_path, drive_osm)
        except (OSError, EOFError, ParseError, ValueError) as exc:
            raise RoadNetworkError(f"cannot read OSM XML from {osm_path}: {exc}") from exc
        if stats.ways_kept == 0:
            raise RoadNetworkError(
                f"{osm_path} holds no drivable roads ({stats.ways_read} ways, {stats.nodes_read} nodes read)"
            )
        if stats.refs_missing:
            log.warning("%s: %d way node references are missing from the file", osm_path, stats.refs_missing)

        import osmnx as ox  # deferred: slow to import, and not needed when loading from cache

        try:
            graph = ox.graph_from_xml(drive_osm, simplify=True, retain_all=True)
            ox.add_edge_speeds(graph, fallback=fallback_kph)
            ox.add_edge_travel_times(graph)
        except Exception as exc:  # osmnx raises many types; all mean "this file gives no network"
            raise RoadNetworkError(f"cannot build a road graph from {osm_path}: {exc}") from exc
    if graph.number_of_edges() == 0:
        raise RoadNetworkError(f"{osm_path} gives a road graph with no edges")
    graph = ox.truncate.largest_component(graph, strongly=True)
    if graph.number_of_edges() == 0:
        raise RoadNetworkError(f"{osm_path}: the largest strongly connected road component has no edges")
    return graph


class RoadNetwork:
    """A drivable road graph with fastest-path matrices, routes and nearest-node lookup.

    Build one with :meth:`load`; the constructor takes an already-built graph
    (useful for small synthetic graphs in tests).

    Attributes
    ----------
    graph : networkx.MultiDiGraph
        The drive graph (nodes keyed by OSM id, with ``x`` = lon and ``y`` = lat
        in degrees), restricted to its largest strongly connected component when
        built by :meth:`load`. Edges carry ``length`` (m), ``speed_kph`` (km/h)
        and ``travel_time`` (s), and ``geometry`` (a shapely LineString in
        lon/lat) where osmnx simplified a curve. Treat it as read-only.
    osm_ids : numpy.ndarray
        int64, the OSM id of node index ``i`` (ascending).
    lat, lon : numpy.ndarray
        float64, node coordinates in degrees per node index.
    source_hash : str
        sha256 (hex) of the OSM file the graph was built from.
    from_cache : bool
        Whether :meth:`load` read the graph from the on-disk cache.
    """

    def __init__(self, graph: nx.MultiDiGraph, source_hash: str = "", *, from_cache: bool = False) -> None:
        """Index ``graph`` for fast queries.

        Parameters
        ----------
        graph
            A MultiDiGraph whose nodes have ``x`` (lon, degrees) and ``y`` (lat,
            degrees) and whose edges have finite, non-negative ``length`` (m)
            and ``travel_time`` (s). It is kept as is (not copied or restricted).
        source_hash
            sha256 of the file the graph came from ("" if none).
        from_cache
            Whether the graph was read from the cache (informational).

        Raises
        ------
        RoadNetworkError
            If the graph is empty or an attribute above is missing or invalid.
        """
        if graph.number_of_nodes() == 0:
            raise RoadNetworkError("road graph has no nodes")
        self.graph = graph
        self.source_hash = source_hash
        self.from_cache = from_cache

        self.osm_ids: NDArray[np.int64] = np.array(sorted(graph.nodes), dtype=np.int64)
        n = len(self.osm_ids)
        try:
            self.lat: NDArray[np.float64] = np.array(
                [graph.nodes[i]["y"] for i in self.osm_ids.tolist()], dtype=np.float64
            )
            self.lon: NDArray[np.float64] = np.array(
                [graph.nodes[i]["x"] for i in self.osm_ids.tolist()], dtype=np.float64
            )
        except KeyError as exc:
            raise RoadNetworkError(f"road graph node lacks coordinate {exc}") from None
        if not (np.isfinite(self.lat).all() and np.isfinite(self.lon).all()):
            raise RoadNetworkError("road graph has nodes with non-finite coordinates")
        for arr in (self.osm_ids, self.lat, self.lon):
            arr.flags.writeable = False

        # ---- edges -> CSR of travel time, keeping the fastest of parallel edges
        m = graph.number_of_edges()
        u_idx = np.empty(m, dtype=np.int64)
        v_idx = np.empty(m, dtype=np.int64)
        tt = np.empty(m, dtype=np.float64)
        length = np.empty(m, dtype=np.float64)
        keys: list[Any] = []
        for e, (u, v, k, data) in enumerate(graph.edges(keys=True, data=True)):
            try:
                tt[e] = data["travel_time"]
                length[e] = data["length"]
            except (KeyError, TypeError, ValueError) as exc:
                raise RoadNetworkError(f"road edge {u}->{v} lacks a numeric {exc}") from None
            u_idx[e] = u
            v_idx[e] = v
            keys.append(k)
        bad = ~(np.isfinite(tt) & np.isfinite(length) & (tt >= 0) & (length >= 0))
        if bad.any():
            e = int(np.flatnonzero(bad)[0])
            raise RoadNetworkError(
                f"road edge {u_idx[e]}->{v_idx[e]} has invalid travel_time {tt[e]} s or length {length[e]} m"
            )
        u_idx = np.searchsorted(self.osm_ids, u_idx)
        v_idx = np.searchsorted(self.osm_ids, v_idx)
        loop = u_idx == v_idx
        order = np.lexsort((length, tt, v_idx, u_idx))
        order = order[~loop[order]]
        us, vs = u_idx[order], v_idx[order]
        first = np.ones(len(order), dtype=bool)
        first[1:] = (us[1:] != us[:-1]) | (vs[1:] != vs[:-1])
        order = order[first]
        us, vs = u_idx[order], v_idx[order]
        indptr = np.searchsorted(us, np.arange(n + 1)).astype(np.int32)
        self._csr = sp.csr_matrix((tt[order], vs.astype(np.int32), indptr), shape=(n, n))
        self._csr_length: NDArray[np.float64] = length[order]
        self._csr_key: list[Any] = [keys[i] for i in order.tolist()]

        # ---- nearest-node index in local metres
        self._proj = LocalProjection(
            lat0=float((self.lat.min() + self.lat.max()) / 2),
            lon0=float((self.lon.min() + self.lon.max()) / 2),
        )
        self._tree = cKDTree(self._proj.to_xy(self.lat, self.lon))

        self._edge_lines: list[tuple[NDArray[np.float64], str, float]] | None = None
        self._bbox: tuple[float, float, float, float] | None = None

    # ------------------------------------------------------------------ loading

    @classmethod
    def load(
        cls, osm_path: Path, cache_dir: Path | None = None, *, fallback_kph: float = 40.0
    ) -> RoadNetwork:
        """Load the drive network of an OSM XML file, using the on-disk cache when it can.

        Parameters
        ----------
        osm_path
            OSM XML 0.6 file, plain or bzip2/gzip compressed.
        cache_dir
            Folder for the cache (created if needed); ``None`` disables caching.
            The cache file is keyed by the file's sha256, ``fallback_kph`` and
            the osmnx version. It is a pickle: keep the folder private.
        fallback_kph
            Speed (km/h) for highway types with no ``maxspeed`` anywhere in the file.

        Returns
        -------
        RoadNetwork

        Raises
        ------
        RoadNetworkError
            If the file is missing, unreadable, not OSM XML, or holds no drivable roads.
        ValidationError
            If ``fallback_kph`` is not a positive finite number.
        """
        t0 = time.perf_counter()
        osm_path = Path(osm_path)
        if not isinstance(fallback_kph, int | float) or not math.isfinite(fallback_kph) or fallback_kph <= 0:
            raise ValidationError(
                "RoadNetwork.load", "fallback_kph", f"must be > 0 km/h, got {fallback_kph!r}"
            )
        fallback_kph = float(fallback_kph)
        if not osm_path.is_file():
            raise RoadNetworkError(f"road network file {osm_path} does not exist or is not a file")
        try:
            sha = _sha256(osm_path)
        except OSError as exc:
            raise RoadNetworkError(f"cannot read road network file {osm_path}: {exc}") from exc

        meta = {
            "format": _CACHE_FORMAT,
            "sha256": sha,
            "fallback_kph": fallback_kph,
            "osmnx": _osmnx_version(),
        }
        cache_file = None
        if cache_dir is not None:
            cache_file = Path(cache_dir) / f"roads-{sha}-{fallback_kph!r}kph.pkl"
            net = cls._read_cache(cache_file, meta)
            if net is not None:
                log.info("road network %s loaded from cache in %.2f s", osm_path, time.perf_counter() - t0)
                return net

        graph = _build_graph(osm_path, fallback_kph)
        net = cls(graph, sha)
        if cache_file is not None:
            cls._write_cache(cache_file, {**meta, "graph": graph})
        log.info(
            "road network %s built in %.2f s: %d nodes, %d edges",
            osm_path,
            time.perf_counter() - t0,
            graph.number_of_nodes(),
            graph.number_of_edges(),
        )
        return net

    @classmethod
    def _read_cache(cls, cache_file: Path, meta: dict[str, Any]) -> RoadNetwork | None:
        """The cached network if ``cache_file`` exists and matches ``meta``, else None."""
        if not cache_file.is_file():
            return None
        try:
            with cache_file.open("rb") as f:
                payload = pickle.load(f)
            if not isinstance(payload, dict) or any(payload.get(k) != v for k, v in meta.items()):
                log.info("ignoring stale road network cache %s", cache_file)
                return None
            return cls(payload["graph"], meta["sha256"], from_cache=True)
        except Exception as exc:  # a broken cache must never stop a load: rebuild instead
            log.warning("ignoring unreadable road network cache %s: %s", cache_file, exc)
            return None

    @staticmethod
    def _write_cache(cache_file: Path, payload: dict[str, Any]) -> None:
        """Write ``payload`` atomically to ``cache_file``; failures are logged, not raised."""
        tmp_name = None
        try:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(
                dir=cache_file.parent, prefix=cache_file.name, suffix=".tmp", delete=False
            ) as f:
                tmp_name = f.name
                pickle.dump(payload, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp_name, cache_file)
        except OSError as exc:
            log.warning("cannot write road network cache %s: %s", cache_file, exc)
            if tmp_name is not None:
                Path(tmp_name).unlink(missing_ok=True)

    # ------------------------------------------------------------------ queries

    def __repr__(self) -> str:
        return (
            f"RoadNetwork({len(self.osm_ids)} nodes, {self.graph.number_of_edges()} edges, "
            f"source {self.source_hash[:12] or '-'})"
        )

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """``(west, south, east, north)`` in degrees, over nodes and edge geometries."""
        if self._bbox is None:
            lon = np.concatenate([self.lon, *(line[:, 0] for line, _, _ in self._lines())])
            lat = np.concatenate([self.lat, *(line[:, 1] for line, _, _ in self._lines())])
            self._bbox = (float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max()))
        return self._bbox

    def nearest_nodes(self, lat: ArrayLike, lon: ArrayLike) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Snap points to their nearest graph node.

        The nearest node is found in a local equirectangular projection about
        the network centre; the distance returned is the great-circle distance.

        Parameters
        ----------
        lat, lon
            Point coordinates in degrees; scalars or arrays (broadcast together).

        Returns
        -------
        index : numpy.ndarray
            int64 node index per point, shape of the broadcast inputs.
        distance : numpy.ndarray
            float64 snap distance per point (m).

        Raises
        ------
        ValidationError
            If a coordinate is not finite.
        """
        lat_a, lon_a = np.broadcast_arrays(
            np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)
        )
        if not (np.isfinite(lat_a).all() and np.isfinite(lon_a).all()):
            raise ValidationError("RoadNetwork.nearest_nodes", "lat/lon", "must be finite numbers")
        shape = lat_a.shape
        xy = self._proj.to_xy(lat_a.ravel(), lon_a.ravel())
        if len(xy) == 0:
            return np.empty(shape, dtype=np.int64), np.empty(shape, dtype=np.float64)
        _, idx = self._tree.query(xy)
        idx = np.asarray(idx, dtype=np.int64)
        dist = haversine_m(lat_a.ravel(), lon_a.ravel(), self.lat[idx], self.lon[idx])
        return idx.reshape(shape), dist.reshape(shape)

    def _check_nodes(self, values: ArrayLike, name: str) -> NDArray[np.int64]:
        """``values`` as a 1-D int64 array of valid node indices, else ValidationError."""
        arr = np.asarray(values)
        if arr.size == 0:
            return np.empty(0, dtype=np.int64)
        if arr.ndim > 1:
            raise ValidationError("RoadNetwork", name, f"must be 1-D node indices, got shape {arr.shape}")
        if not np.issubdtype(arr.dtype, np.integer):
            raise ValidationError("RoadNetwork", name, f"must be integer node indices, got dtype {arr.dtype}")
        arr = arr.astype(np.int64).reshape(-1)
        n = len(self.osm_ids)
        bad = arr[(arr < 0) | (arr >= n)]
        if len(bad):
            raise ValidationError("RoadNetwork", name, f"node indices must lie in [0, {n}), got {bad[0]}")
        return arr

    def _fastest_trees(
        self, roots: NDArray[np.int64]
    ) -> tuple[NDArray[np.float64], NDArray[np.int32], NDArray[np.float64]]:
        """Dijkstra by travel time from each root: (time s, predecessor, length m along the tree)."""
        dist, pred = dijkstra(self._csr, directed=True, indices=roots, return_predecessors=True)
        length = _tree_lengths(pred, roots, self._csr.indptr, self._csr.indices, self._csr_length)
        return dist, pred, length

    def matrices(
        self, sources: ArrayLike, targets: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Travel-time and distance matrices of the fastest paths.

        One Dijkstra (by travel time; the fastest of parallel edges) runs per
        unique source; the distance is the length along that same fastest path,
        summed over the predecessor tree.

        Parameters
        ----------
        sources, targets
            1-D node indices (``0..n-1``); repeats are allowed.

        Returns
        -------
        time_s : numpy.ndarray
            float64 ``[len(sources), len(targets)]`` travel time (s).
        distance_m : numpy.ndarray
            float64 ``[len(sources), len(targets)]`` length of the fastest path (m).
            Both are ``inf`` where the target is unreachable (never, within an SCC).

        Raises
        ------
        ValidationError
            If an index is not an integer in ``[0, n)``.
        """
        src = self._check_nodes(sources, "sources")
        tgt = self._check_nodes(targets, "targets")
        uniq, inverse = np.unique(src, return_inverse=True)
        time_u = np.empty((len(uniq), len(tgt)), dtype=np.float64)
        dist_u = np.empty((len(uniq), len(tgt)), dtype=np.float64)
        if len(uniq) and len(tgt):
            block = max(1, _MATRIX_BLOCK_CELLS // len(self.osm_ids))
            for start in range(0, len(uniq), block):
                roots = uniq[start : start + block]
                dist, _, length = self._fastest_trees(roots)
                time_u[start : start + len(roots)] = dist[:, tgt]
                dist_u[start : start + len(roots)] = length[:, tgt]
        return time_u[inverse.reshape(-1)], dist_u[inverse.reshape(-1)]

    def route(self, source: int, target: int) -> RoadPath:
        """The fastest path between two nodes, with its road geometry.

        Parameters
        ----------
        source, target
            Node indices (``0..n-1``).

        Returns
        -------
        RoadPath
            Its ``time_s`` and ``length_m`` equal ``matrices([source], [target])``.

        Raises
        ------
        ValidationError
            If an index is not an integer in ``[0, n)``.
        RoadNetworkError
            If ``target`` cannot be reached from ``source``.
        """
        try:
            s, t = operator.index(source), operator.index(target)
        except TypeError:
            raise ValidationError(
                "RoadNetwork.route",
                "source/target",
                f"must be integer node indices, got {source!r}, {target!r}",
            ) from None
        s, t = (int(x) for x in self._check_nodes([s, t], "source/target"))
        dist, pred, length = self._fastest_trees(np.array([s], dtype=np.int64))
        if not math.isfinite(dist[0, t]):
            raise RoadNetworkError(
                f"no road path from node {s} (OSM {self.osm_ids[s]}) to node {t} (OSM {self.osm_ids[t]})"
            )
        nodes = [t]
        while nodes[-1] != s:
            nodes.append(int(pred[0, nodes[-1]]))
        nodes.reverse()
        coords: list[tuple[float, float]] = [(float(self.lat[s]), float(self.lon[s]))]
        for p, v in itertools.pairwise(nodes):
            seg = self._edge_latlon(p, v)
            coords.extend((float(a), float(b)) for a, b in seg[1:])
        return RoadPath(
            nodes=tuple(nodes), coords=tuple(coords), length_m=float(length[0, t]), time_s=float(dist[0, t])
        )

    def _edge_latlon(self, p: int, v: int) -> NDArray[np.float64]:
        """(k, 2) ``(lat, lon)`` of the fastest edge p -> v, oriented p to v, ends exactly at the nodes."""
        lo, hi = self._csr.indptr[p], self._csr.indptr[p + 1]
        pos = lo + int(np.flatnonzero(self._csr.indices[lo:hi] == v)[0])
        data = self.graph.edges[int(self.osm_ids[p]), int(self.osm_ids[v]), self._csr_key[pos]]
        start = np.array([self.lat[p], self.lon[p]])
        end = np.array([self.lat[v], self.lon[v]])
        geom = data.get("geometry")
        if geom is None:
            return np.stack([start, end])
        latlon = np.array(geom.coords, dtype=np.float64)[:, 1::-1]
        if np.sum((latlon[0] - end) ** 2) < np.sum((latlon[0] - start) ** 2):
            latlon = latlon[::-1].copy()
        latlon[0] = start
        latlon[-1] = end
        return latlon

    def _lines(self) -> list[tuple[NDArray[np.float64], str, float]]:
        """Cached :meth:`edge_speed_lines` (arrays read-only)."""
        if self._edge_lines is None:
            lines: list[tuple[NDArray[np.float64], str, float]] = []
            nodes = self.graph.nodes
            for u, v, data in self.graph.edges(data=True):
                geom = data.get("geometry")
                if geom is not None:
                    xy = np.array(geom.coords, dtype=np.float64)[:, :2]
                else:
                    xy = np.array(
                        [[nodes[u]["x"], nodes[u]["y"]], [nodes[v]["x"], nodes[v]["y"]]], dtype=np.float64
                    )
                xy.flags.writeable = False
                speed = float(data.get("speed_kph", math.nan))
                lines.append((xy, _highway_class(data.get("highway")), speed))
            self._edge_lines = lines
        return self._edge_lines

    def edge_lines(self) -> list[tuple[NDArray[np.float64], str]]:
        """Every edge's polyline, for drawing a map.

        Returns
        -------
        list of (numpy.ndarray, str)
            Per edge (parallel and reverse edges included): a read-only float64
            ``(k, 2)`` array of ``(lon, lat)`` degrees and its highway class
            (the first one if osmnx merged several, ``"unknown"`` if absent).
        """
        return [(xy, highway) for xy, highway, _ in self._lines()]

    def edge_speed_lines(self) -> list[tuple[NDArray[np.float64], str, float]]:
        """:meth:`edge_lines` with each edge's ``speed_kph`` (posted or imputed; NaN if absent)."""
        return list(self._lines())
