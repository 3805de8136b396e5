"""GeoJSON evidence for alerts: the track piece, the planned stop, the missed road.

Every alert carries a FeatureCollection. Positions are ``[lon, lat]`` (GeoJSON
order) rounded to 7 decimals (about 1 cm); per-fix values (times, distances,
speeds) ride along as property lists, one value per position.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

MAX_EVIDENCE_POSITIONS = 400
"""Longer track pieces are thinned evenly (first and last kept) to this many positions."""


def thin(idx: IntArray, limit: int = MAX_EVIDENCE_POSITIONS) -> IntArray:
    """At most ``limit`` of the indices, evenly spread, first and last kept."""
    if idx.shape[0] <= limit:
        return idx
    pick = np.unique(np.round(np.linspace(0, idx.shape[0] - 1, limit)).astype(np.int64))
    out: IntArray = idx[pick]
    return out


def position(lat: float, lon: float) -> list[float]:
    """One GeoJSON position ``[lon, lat]``, rounded to 7 decimals."""
    return [round(float(lon), 7), round(float(lat), 7)]


def track_feature(
    lat: FloatArray,
    lon: FloatArray,
    idx: IntArray,
    properties: dict[str, Any],
    per_fix: dict[str, FloatArray] | None = None,
) -> dict[str, Any]:
    """A Feature of the fixes ``idx``: a LineString, or a Point for a single fix.

    ``per_fix`` arrays (indexed like ``lat``) are added as property lists over
    ``idx`` (NaN becomes null), rounded to 2 decimals except ``ts_utc``.
    """
    pts = [position(lat[i], lon[i]) for i in idx.tolist()]
    geometry: dict[str, Any] = (
        {"type": "LineString", "coordinates": pts}
        if len(pts) >= 2
        else {"type": "Point", "coordinates": pts[0]}
    )
    props = dict(properties)
    for name, values in (per_fix or {}).items():
        vals = values[idx]
        if name == "ts_utc":
            props[name] = [float(v) for v in vals]
        else:
            props[name] = [None if not np.isfinite(v) else round(float(v), 2) for v in vals]
    return {"type": "Feature", "geometry": geometry, "properties": props}


def point_feature(lat: float, lon: float, properties: dict[str, Any]) -> dict[str, Any]:
    """A Point Feature."""
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": position(lat, lon)},
        "properties": properties,
    }


def lines_feature(
    lines: Sequence[Sequence[tuple[float, float]]], properties: dict[str, Any]
) -> dict[str, Any]:
    """A MultiLineString Feature of ``(lat, lon)`` polylines."""
    coords = [[position(la, lo) for la, lo in line] for line in lines]
    return {
        "type": "Feature",
        "geometry": {"type": "MultiLineString", "coordinates": coords},
        "properties": properties,
    }


def collection(*features: dict[str, Any]) -> dict[str, Any]:
    """A FeatureCollection of ``features``."""
    return {"type": "FeatureCollection", "features": list(features)}
