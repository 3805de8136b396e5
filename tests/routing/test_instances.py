"""Tests of routing.instances: the benchmark readers on the shipped files and on every documented quirk.

The shipped files live in ``../shared/benchmarks`` (``routing.bench.default_data_dir``).
Expected numbers come from the folders' FORMAT.md / README.md, not from the readers.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from core.domain import DAY_S
from routing.bench import default_data_dir
from routing.instances import (
    L_PER_YD3,
    M_PER_MILE,
    NONBINDING_KG,
    Family,
    _wc_parse,
    parse_hhmm,
    read_cvrplib,
    read_instance,
    read_sol,
    read_solomon,
    read_wcvrptw,
)
from routing.model import build_problem, locations

DATA = default_data_dir()
WC = DATA / "wcvrptw"
SOLOMON = DATA / "solomon"
CVRPLIB = DATA / "cvrplib"

# FORMAT.md "Instance summary": customers, disposal, trip cap, day cap, depot window, total load,
# customers with a window other than 0000-2400.
WC_SUMMARY = {
    "102": (99, 2, 280, 400, ("0400", "1500"), 897.0, 51),
    "277": (275, 1, 200, 2200, ("0800", "1700"), 2132.5, 0),
    "335": (330, 4, 243, 400, ("0600", "1500"), 2011.0, 204),
    "444": (442, 1, 200, 400, ("0800", "1700"), 3991.3, 0),
    "804": (784, 19, 280, 10000, ("0400", "1500"), 4620.0, 58),
    "1051": (1048, 2, 200, 800, ("0400", "1700"), 12695.5, 75),
    "1351": (1347, 3, 255, 800, ("0400", "1700"), 5445.0, 96),
    "1599": (1596, 2, 280, 800, ("0400", "1500"), 8524.0, 255),
    "1932": (1927, 4, 462, 2000, ("0300", "1700"), 13205.0, 540),
    "2100": (2092, 7, 462, 2000, ("0400", "1500"), 17166.0, 44),
}
WC_SHIPPED = [k for k in WC_SUMMARY if (WC / f"{k}_stop.txt").is_file()]

SOLOMON_BKS = {"C101": 827.3, "C201": 589.1, "R101": 1637.7, "R201": 1143.2, "RC101": 1619.8, "RC201": 1261.8}
SOLOMON_SHIPPED = [k for k in SOLOMON_BKS if (SOLOMON / f"{k}.txt").is_file()]
X_BKS = {"X-n101-k25": 27591, "X-n256-k16": 18839, "X-n502-k39": 69226, "X-n1001-k43": 72355}
X_SHIPPED = [k for k in X_BKS if (CVRPLIB / f"{k}.vrp").is_file()]


def hm(h: int, m: int = 0) -> int:
    return h * 3600 + m * 60


def test_shipped_benchmarks_are_there():
    """The shipped folders hold the instances these tests are parametrised over (no vacuous runs)."""
    assert {"102", "277", "444", "804", "1351", "1599", "2100"} <= set(WC_SHIPPED)
    assert "C101" in SOLOMON_SHIPPED
    assert "X-n101-k25" in X_SHIPPED


# --------------------------------------------------------------------------- WCVRPTW


@pytest.mark.parametrize("key", WC_SHIPPED)
def test_wcvrptw_counts_capacities_and_loads(key):
    """Rows = the number in the file name; depot/disposal/customer counts, capacities, depot
    window and total load match FORMAT.md's summary table."""
    customers, disposal, trip, day, (early, late), load, _ = WC_SUMMARY[key]
    inst = read_wcvrptw(WC / f"{key}_stop.txt")
    d = inst.district
    assert inst.n_rows == int(key)
    assert sorted(inst.row_of) == list(range(int(key)))
    assert (len(d.depots), len(d.facilities), len(d.points)) == (1, disposal, customers)
    v = d.vehicles[0]
    assert v.capacity_l == pytest.approx(trip * L_PER_YD3)
    assert v.max_route_l == pytest.approx(day * L_PER_YD3)
    assert v.max_stops == 500
    assert (v.shift.start_s, v.shift.end_s) == (parse_hhmm(early), parse_hhmm(late))
    assert sum(p.expected_l for p in d.points) / L_PER_YD3 == pytest.approx(load)
    assert all(p.expected_kg == 0.0 for p in d.points)
    assert v.capacity_kg == NONBINDING_KG


@pytest.mark.parametrize("key", WC_SHIPPED)
def test_wcvrptw_windows_follow_the_file(key):
    """Customers with a window other than 0000-2400 match FORMAT.md; the reader keeps every one
    that does not cover the whole depot window, exactly as written (HHMM -> seconds)."""
    *_, nontrivial = WC_SUMMARY[key]
    _header, rows = _wc_parse(WC / f"{key}_stop.txt")
    cust = [r for r in rows if r.kind == 1]
    assert sum(1 for r in cust if (r.early_s, r.late_s) != (0, DAY_S)) == nontrivial
    inst = read_wcvrptw(WC / f"{key}_stop.txt")
    shift = inst.district.vehicles[0].shift
    index_of = inst.index_of
    for p in inst.district.points:
        r = rows[inst.row_of[index_of[p.id]]]
        if p.time_windows:
            assert [(w.start_s, w.end_s) for w in p.time_windows] == [(r.early_s, r.late_s)]
        else:
            assert r.early_s <= shift.start_s
            assert r.late_s >= shift.end_s


def test_wcvrptw_worked_example_102():
    """FORMAT.md's worked example: 102 node 0 -> node 1 is 15387 ft = 2.914 mi and 262.3 s at 40 mph."""
    inst = read_wcvrptw(WC / "102_stop.txt")
    loc = inst.location_of_row
    a, b = loc[0], loc[1]
    assert inst.dist_m[a, b] / M_PER_MILE == pytest.approx(15387 / 5280)
    assert round(inst.dist_m[a, b] / M_PER_MILE, 3) == 2.914
    assert round(float(inst.time_s[a, b]), 1) == 262.3
    assert inst.routes_distance([[0, 1, 0]]) == pytest.approx(2 * 15387 / 5280, abs=1e-3)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0700", hm(7)),
        ("1445", hm(14, 45)),
        ("400", hm(4)),
        ("0", 0),
        ("0000", 0),
        ("2400", DAY_S),
        ("1675", hm(16, 45)),
        ("0775", hm(7, 45)),
        ("875", hm(8, 45)),
        ("1500.0", hm(15)),
    ],
)
def test_parse_hhmm_quirks(text, seconds):
    """HHMM without leading zeros, 2400 = end of day, and invalid minutes (..75) read as decimal hours."""
    assert parse_hhmm(text) == seconds


def test_wcvrptw_hhmm_quirks_in_the_files():
    """The quirky values land where FORMAT.md says: 1599's depot `400`-`1500`, customers' `0`-`2400`;
    2100's disposal id 2 closing `1675` and customer id 162 `0775`-`1575`."""
    inst = read_wcvrptw(WC / "1599_stop.txt")
    shift = inst.district.vehicles[0].shift
    assert (shift.start_s, shift.end_s) == (hm(4), hm(15))
    inst = read_wcvrptw(WC / "2100_stop.txt")
    fac = {f.id: f for f in inst.district.facilities}["f2"]
    assert (fac.opening.start_s, fac.opening.end_s) == (hm(6, 50), hm(16, 45))
    point = {p.id: p for p in inst.district.points}["c162"]
    assert [(w.start_s, w.end_s) for w in point.time_windows] == [(hm(7, 45), hm(15, 45))]


def test_wcvrptw_1599_disposal_rows_last():
    """1599's two disposal rows are the last two data rows; they become the facilities and map back
    to rows 1597 and 1598, with the file's ids."""
    inst = read_wcvrptw(WC / "1599_stop.txt")
    n_fac = len(inst.district.facilities)
    assert n_fac == 2
    assert inst.row_of[1 : 1 + n_fac] == (1597, 1598)
    assert [inst.file_ids[r] for r in (1597, 1598)] == ["1000707", "70647"]
    assert [f.id for f in inst.district.facilities] == ["f1597", "f1598"]
    assert sorted(inst.customer_rows()) == list(range(1, 1597))


def test_wcvrptw_1351_big_ids_use_row_positions():
    """1351's Stop_IDs are large arbitrary integers; locations and solutions use row positions."""
    inst = read_wcvrptw(WC / "1351_stop.txt")
    assert inst.file_ids[:3] == ("75632", "1001407", "1001409")
    assert inst.row_of[0] == 0
    assert max(int(i) for i in inst.file_ids) > 2_000_000
    assert sorted(inst.row_of) == list(range(1351))
    assert inst.district.facilities[0].id == "f1"
    assert "Stop_ID 1001407" in inst.district.facilities[0].name


@pytest.mark.parametrize("key", WC_SHIPPED)
def test_wcvrptw_fleet_and_vehicle_cost(key):
    """The unlimited fleet becomes at least the published vehicle count plus margin; one vehicle's
    fixed cost (km at 1 per km) exceeds the distance of the plan that serves every customer on its
    own trip, depot -> customer -> nearest disposal -> depot, so vehicles are minimised first."""
    inst = read_wcvrptw(WC / f"{key}_stop.txt")
    d = inst.district
    if inst.best_known is not None and inst.best_known.fewest_vehicles is not None:
        assert len(d.vehicles) > inst.best_known.fewest_vehicles
    n_fac = len(d.facilities)
    cust = np.arange(1 + n_fac, inst.n_rows)
    fac = np.arange(1, 1 + n_fac)
    to_fac = inst.dist_m[np.ix_(cust, fac)]
    nearest = to_fac.argmin(axis=1)
    naive_m = (inst.dist_m[0, cust] + to_fac.min(axis=1) + inst.dist_m[fac[nearest], 0]).sum()
    assert d.vehicles[0].fixed_cost * 1000.0 > naive_m
    v = d.vehicles[0]
    assert (v.break_duration_s, v.break_window.start_s, v.break_window.end_s) == (3600, hm(11), hm(12))
    assert (v.cost_per_km, v.cost_per_hour) == (1.0, 0.0)


@pytest.mark.parametrize("key", WC_SHIPPED)
def test_wcvrptw_best_known_matches_readme(key):
    """Best published values come from published_results.csv and equal README's headline table."""
    headline = {
        "102": (174.5, 3, 3, 174.5),
        "277": (447.6, 3, 3, 447.6),
        "444": (78.3, 11, 11, 78.3),
        "804": (586.2, 5, 5, 586.2),
        "1351": (828.1, 8, 7, 1011.9),
        "1599": (1170.2, 13, 13, 1337.5),
        "2100": (1594.2, 17, 16, 1749.0),
        "335": (182.1, 6, 6, 182.1),
        "1051": (2250.5, 17, 17, 2250.5),
        "1932": (1128.7, 16, 16, 1128.7),
    }
    bk = read_wcvrptw(WC / f"{key}_stop.txt").best_known
    assert bk is not None
    assert (bk.distance, bk.vehicles, bk.fewest_vehicles, bk.fewest_vehicles_distance) == headline[key]


def test_wcvrptw_reader_survives_every_documented_quirk(tmp_path):
    """A file with all of FORMAT.md's quirks at once (CRLF, TABs and quoted TAB-split comments,
    HHMM without zeros and with ..75 minutes, large ids, disposal rows last and co-located with the
    depot, zero load, zero disposal service, trailing TABs, blank lines, no final newline) reads."""
    lines = [
        '250\t//\tvehicle\tcapacity\t"(yards),"\treal',
        "600.0 \t\t// total yardage allowed",
        "500\t// stops",
        "3600\t// lunch",
        "40 // speed: MPH",
        'Stop_ID\tX(feet)\tY(feet)\tEarly_St_Time\t(HHMM)\tLate\t(HHMM)\t"Stop_Type(0: Depot)"',
        "75632\t1000\t2000\t400\t1500\t0\t9999\t0\t\t\t",
        "900001   6280.5   2000  0 2400 30  4.5 1",
        "900002\t1000\t-3280\t0775\t1575\t60\t0\t1",
        "",
        "1001407\t1000\t2000\t0\t2400\t0\t9999\t2",
        "1001408\t11560\t2000\t600\t875\t900\t9999\t2",
    ]
    path = tmp_path / "5_stop.txt"
    path.write_bytes("\r\n".join(lines).encode("ascii"))
    inst = read_wcvrptw(path)
    d = inst.district
    assert (len(d.facilities), len(d.points)) == (2, 2)
    assert inst.row_of == (0, 3, 4, 1, 2)
    assert inst.file_ids[3] == "1001407"
    assert d.vehicles[0].capacity_l == pytest.approx(250 * L_PER_YD3)
    assert d.facilities[0].unload_s == 0
    assert d.facilities[1].opening.end_s == hm(8, 45)
    assert d.points[1].time_windows[0].start_s == hm(7, 45)
    assert d.points[1].expected_l == 0.0
    assert inst.routes_distance([[0, 1, 3, 0]]) == pytest.approx(2 * 5280.5 / 5280, abs=1e-3)
    build_problem(d, inst.time_s, inst.dist_m)


@pytest.mark.parametrize("key", ["102", "1599"])
def test_wcvrptw_maps_into_the_product_model(key):
    """The district builds into the product's RoutingProblem; locations order is depots,
    facilities, points, and each location id names its data row."""
    inst = read_wcvrptw(WC / f"{key}_stop.txt")
    problem = build_problem(inst.district, inst.time_s, inst.dist_m)
    assert len(problem.locations) == inst.n_rows
    for i, loc in enumerate(locations(inst.district)):
        assert int(loc.id[1:]) == inst.row_of[i]
        assert -90 <= loc.lat <= 90
        assert -180 <= loc.lon <= 180
    assert (inst.district.depots[0].lat, inst.district.depots[0].lon) == (0.0, 0.0)


# --------------------------------------------------------------------------- Solomon


@pytest.mark.parametrize("name", SOLOMON_SHIPPED)
def test_solomon_published_routes_cost_the_bks(name):
    """The reader's DIMACS distance of the published .sol routes equals README's BKS
    (C101: 827.3) and the .sol's own Cost line."""
    inst = read_solomon(SOLOMON / f"{name}.txt")
    routes, cost = read_sol(SOLOMON / f"{name}.sol")
    assert inst.routes_distance([[0, *r, 0] for r in routes]) == SOLOMON_BKS[name] == cost
    assert sorted(c for r in routes for c in r) == list(inst.customer_rows())
    assert inst.best_known is not None
    assert inst.best_known.distance == SOLOMON_BKS[name]


def test_solomon_c101_header_scaling_and_truncation():
    """C101: 25 vehicles of 200, 100 customers; 1 unit = 10 s/10 m so the depot horizon 1236 is
    12360 s, customer 1's window 912-967 and service 90 are x10; arcs are truncated, not rounded."""
    inst = read_solomon(SOLOMON / "C101.txt")
    d = inst.district
    assert (len(d.vehicles), d.vehicles[0].capacity_l, len(d.points)) == (25, 200.0, 100)
    assert (d.vehicles[0].shift.start_s, d.vehicles[0].shift.end_s) == (0, 12360)
    c1 = d.points[0]
    assert (c1.time_windows[0].start_s, c1.time_windows[0].end_s, c1.service_s) == (9120, 9670, 900)
    # depot (40, 50) -> customer 1 (45, 68): sqrt(349) = 18.681 -> 18.6 (DIMACS), 186 tenths.
    assert inst.dist_m[0, 1] == 186 == inst.time_s[0, 1]
    assert inst.routes_distance([[0, 1, 0]]) == 37.2
    assert (d.vehicles[0].fixed_cost, d.vehicles[0].break_duration_s) == (0.0, 0)


def test_solomon_reader_survives_crlf_and_blank_space_lines(tmp_path):
    """R101-style CRLF files with a lone-space line before the rows read the same as LF files."""
    src = (SOLOMON / "C101.txt").read_text()
    crlf = tmp_path / "C101.txt"
    crlf.write_bytes(src.replace("\n", "\r\n").encode())
    a, b = read_solomon(SOLOMON / "C101.txt"), read_solomon(crlf)
    assert np.array_equal(a.dist_m, b.dist_m)
    assert a.district.points == b.district.points


# --------------------------------------------------------------------------- CVRPLIB


@pytest.mark.parametrize("name", X_SHIPPED)
def test_cvrplib_published_routes_cost_the_bks(name):
    """Rounded EUC_2D distance of the published .sol routes equals the BKS (X-n101-k25: 27591);
    .sol customer numbers are data-row positions (node id - 1)."""
    inst = read_cvrplib(CVRPLIB / f"{name}.vrp")
    routes, cost = read_sol(CVRPLIB / f"{name}.sol")
    assert inst.routes_distance([[0, *r, 0] for r in routes]) == X_BKS[name] == cost
    assert sorted(c for r in routes for c in r) == list(inst.customer_rows())
    demand = {inst.row_of[i]: p.expected_l for i, p in enumerate(inst.district.points, start=1)}
    cap = inst.district.vehicles[0].capacity_l
    assert all(sum(demand[c] for c in r) <= cap for r in routes)


def test_cvrplib_x101_header_and_fleet():
    """X-n101-k25: capacity 206, 100 customers, depot = node 1 = row 0, no time limits, and a fleet
    above the capacity bound 25 (its BKS uses 26 routes)."""
    inst = read_cvrplib(CVRPLIB / "X-n101-k25.vrp")
    d = inst.district
    assert (d.vehicles[0].capacity_l, len(d.points), inst.row_of[0]) == (206.0, 100, 0)
    assert len(d.vehicles) >= 26
    assert not inst.time_s.any()
    total = sum(p.expected_l for p in d.points)
    assert math.ceil(total / 206) == 25


def test_cvrplib_reader_tolerates_layout_variants(tmp_path):
    """Spaces instead of TABs, ``KEY: value`` without spaces, a depot section on one line."""
    text = "\n".join(
        [
            "NAME: tiny",
            "TYPE: CVRP",
            "DIMENSION: 3",
            "EDGE_WEIGHT_TYPE: EUC_2D",
            "CAPACITY: 10",
            "NODE_COORD_SECTION",
            " 1 0 0",
            " 2 3 4",
            " 3 0 2.6",
            "DEMAND_SECTION",
            "1 0",
            "2 4",
            "3 5",
            "DEPOT_SECTION",
            " 1 -1",
            "EOF",
        ]
    )
    path = tmp_path / "tiny.vrp"
    path.write_text(text)
    inst = read_instance(Family.CVRPLIB, path)
    assert inst.routes_distance([[0, 1, 2, 0]]) == 5 + 3 + 3  # 5, |(3,4)-(0,2.6)| = 3.3 -> 3, 2.6 -> 3
    assert [p.expected_l for p in inst.district.points] == [4.0, 5.0]


def test_read_sol_ignores_other_lines(tmp_path):
    """read_sol takes ``Route #k:`` lines and the ``Cost`` line, nothing else."""
    path = tmp_path / "x.sol"
    path.write_text("Route #1: 1 2\nRoute #2: 3\nCost 12.5\nTime 3\n")
    assert read_sol(path) == ([[1, 2], [3]], 12.5)


def test_read_instance_rejects_unknown_family():
    """read_instance names the three families only."""
    with pytest.raises(ValueError, match="carp"):
        read_instance("carp", Path("x"))
