"""Map pictures (PNG) of a district, its plan and its alerts, drawn offline with matplotlib.

Every map carries the OpenStreetMap attribution required by the ODbL.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D
from numpy.typing import ArrayLike

from core.domain import Alert, District, Plan
from core.sweep_plan import SweepingPlan

ATTRIBUTION = "Map data (c) OpenStreetMap contributors, ODbL"
"""Attribution printed on every map."""

_STREET_WIDTH = {"motorway": 1.4, "trunk": 1.2, "primary": 1.0, "secondary": 0.8, "tertiary": 0.6}


def render_map(
    path: Path,
    *,
    street_lines: Iterable[tuple[ArrayLike, str]],
    district: District,
    plan: Plan | None = None,
    alerts: Sequence[Alert] = (),
    sweeping: Sequence[SweepingPlan] = (),
    title: str = "",
    dpi: int = 130,
) -> Path:
    """Draw streets, routes (one colour per vehicle), places and alerts to a PNG.

    Parameters
    ----------
    path
        The PNG file to write (parent folders are created).
    street_lines
        Each street as ``((lon, lat), ...)`` and its OSM highway class.
    district
        Depots, facilities and collection points to mark.
    plan
        Routes to draw along their road geometry.
    alerts
        Alerts to mark in red and label with their type.
    sweeping
        Street sweeping / washing plans: each vehicle in its own colour, swept
        or washed segments as thick solid lines, deadhead legs as thin dashed ones.
    """
    lines: list[np.ndarray] = []
    widths: list[float] = []
    for coords, highway in street_lines:
        lines.append(np.asarray(coords, dtype=float).reshape(-1, 2))
        widths.append(_STREET_WIDTH.get(highway, 0.35))
    fig, ax = plt.subplots(figsize=(11, 9))
    ax.add_collection(LineCollection(lines, colors="#c8c8c8", linewidths=widths, zorder=1))
    cmap = plt.get_cmap("tab10" if plan is None or len(plan.routes) <= 10 else "tab20")
    if plan is not None:
        for k, route in enumerate(plan.routes):
            xy = [(lon, lat) for stop in route.stops for lat, lon in stop.leg_coords]
            if len(xy) > 1:
                xs, ys = zip(*xy, strict=True)
                colour = cmap(k % cmap.N)
                ax.plot(xs, ys, color=colour, linewidth=1.6, alpha=0.85, zorder=3, label=route.vehicle_id)
                cols = route.collections
                ax.scatter(
                    [s.lon for s in cols], [s.lat for s in cols], s=7, color=colour, zorder=4, linewidths=0
                )
    _draw_sweeping(ax, sweeping)
    served = {s.ref_id for r in plan.routes for s in r.collections} if plan else set()
    left = [p for p in district.points if p.id not in served]
    if left:
        ax.scatter([p.lon for p in left], [p.lat for p in left], s=10, c="black", marker="x", zorder=4)
    ax.scatter(
        [f.lon for f in district.facilities], [f.lat for f in district.facilities],
        s=110, marker="s", c="#444444", edgecolors="white", zorder=5,
    )  # fmt: skip
    for f in district.facilities:
        ax.annotate(f.id, (f.lon, f.lat), xytext=(6, 6), textcoords="offset points", fontsize=8, zorder=6)
    for d in district.depots:
        ax.scatter([d.lon], [d.lat], s=180, marker="*", c="gold", edgecolors="black", zorder=5)
        ax.annotate(d.id, (d.lon, d.lat), xytext=(6, -12), textcoords="offset points", fontsize=8, zorder=6)
    for a in alerts:
        for feature in a.evidence.get("features", []):
            geometry = feature.get("geometry") or {}
            if geometry.get("type") == "LineString" and len(geometry.get("coordinates", [])) > 1:
                xs, ys = zip(*geometry["coordinates"], strict=True)
                ax.plot(xs, ys, color="red", linewidth=2.0, linestyle="--", zorder=6)
        ax.scatter([a.lon], [a.lat], s=320, facecolors="none", edgecolors="red", linewidths=2.2, zorder=7)
        ax.annotate(
            f"{a.type.value}: {a.vehicle_id}", (a.lon, a.lat), xytext=(10, 10), textcoords="offset points",
            color="red", fontsize=9, fontweight="bold", zorder=7,
        )  # fmt: skip
    ax.autoscale()
    lat_mid = sum(ax.get_ylim()) / 2
    ax.set_aspect(1 / math.cos(math.radians(lat_mid)))
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    if title:
        ax.set_title(title)
    if (plan is not None and plan.routes) or any(sp.routes for sp in sweeping):
        ax.legend(loc="upper left", fontsize=7, ncol=2, framealpha=0.8)
    fig.text(0.99, 0.01, ATTRIBUTION, ha="right", va="bottom", fontsize=8, color="#333333")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path


def _draw_sweeping(ax: Axes, plans: Sequence[SweepingPlan]) -> None:
    """Swept/washed segments (thick, solid) and deadhead legs (thin, dashed), one colour per vehicle."""
    cmap = plt.get_cmap("Dark2")
    k = 0
    for sp in plans:
        for route in sp.routes:
            colour = cmap(k % cmap.N)
            k += 1
            swept = [np.array([(lon, lat) for lat, lon in v.coords]) for v in route.services]
            dead = [
                np.array([(lon, lat) for lat, lon in v.deadhead_coords])
                for v in route.visits
                if len(v.deadhead_coords) > 1
            ]
            # washing underneath (wide, light), sweeping on top (narrow), so both show on shared streets
            width, alpha, z = (2.6, 0.95, 3.7) if sp.activity == "sweep" else (5.0, 0.5, 3.5)
            ax.add_collection(
                LineCollection(dead, colors=[colour], linewidths=1.0, linestyles="--", alpha=0.9, zorder=3.8)
            )
            ax.add_collection(LineCollection(swept, colors=[colour], linewidths=width, alpha=alpha, zorder=z))
            label = f"{route.vehicle_id} {sp.activity}"
            ax.add_line(Line2D([], [], color=colour, linewidth=width, alpha=alpha, label=label))
    if k:
        ax.add_line(Line2D([], [], color="#555555", linewidth=0.9, linestyle="--", label="deadhead"))
