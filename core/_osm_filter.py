"""Stream an OSM XML file down to the ways osmnx's ``"drive"`` network keeps.

osmnx 2.1.1's ``graph_from_xml`` has no network filter: it turns every way in the
file (buildings, railways, footways, ...) into edges. This module does one
streaming :func:`xml.etree.ElementTree.iterparse` pass over the (plain, bzip2 or
gzip) file, keeps the drivable ways and the nodes they reference, and writes a
small OSM XML file for ``graph_from_xml``. Relations are dropped (osmnx ignores
them when building a graph).

The rules mirror ``osmnx._overpass._get_network_filter("drive")`` with the default
``settings.default_access``. As in Overpass, ``[key!~"re"]`` is an unanchored,
case-sensitive regex search that passes when the key is absent.
"""

from __future__ import annotations

import bz2
import gzip
import io
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET
from xml.sax.saxutils import quoteattr

DRIVE_EXCLUDE: dict[str, str] = {
    "area": "yes",
    "access": "private",
    "highway": (
        "abandoned|bridleway|bus_guideway|construction|corridor|cycleway|elevator|escalator|footway|no|"
        "path|pedestrian|planned|platform|proposed|raceway|razed|rest_area|service|services|steps|track"
    ),
    "motor_vehicle": "no",
    "motorcar": "no",
    "service": "alley|driveway|emergency_access|parking|parking_aisle|private",
}
"""Way tag -> Overpass regex that excludes the way (osmnx ``"drive"``, osmnx 2.1.1)."""

_EXCLUDE_RE = {key: re.compile(pattern) for key, pattern in DRIVE_EXCLUDE.items()}


def is_drive_way(tags: Mapping[str, str]) -> bool:
    """Whether a way with these tags belongs to osmnx's ``"drive"`` network.

    Parameters
    ----------
    tags
        The way's OSM tags.

    Returns
    -------
    bool
        True if ``highway`` is present and no exclusion regex matches.
    """
    if "highway" not in tags:
        return False
    return not any(key in tags and rx.search(tags[key]) for key, rx in _EXCLUDE_RE.items())


@dataclass(frozen=True, slots=True)
class FilterStats:
    """What :func:`filter_drive_xml` read and wrote."""

    nodes_read: int
    ways_read: int
    ways_kept: int
    nodes_kept: int
    refs_missing: int


@contextmanager
def _open_xml(path: Path) -> Iterator[io.BufferedIOBase]:
    """Open ``path`` for binary reading, decompressing bzip2 or gzip by magic bytes."""
    with path.open("rb") as raw:
        magic = raw.read(3)
        raw.seek(0)
        if magic == b"BZh":
            with bz2.open(raw, "rb") as f:
                yield f
        elif magic[:2] == b"\x1f\x8b":
            with gzip.open(raw, "rb") as f:
                yield f
        else:
            yield raw


def _longest_present_run(refs: list[str], present: Mapping[str, object]) -> list[str]:
    """The longest run of consecutive refs whose nodes are in the file."""
    best: list[str] = []
    run: list[str] = []
    for ref in refs:
        if ref in present:
            run.append(ref)
            if len(run) > len(best):
                best = run
        else:
            run = []
    return best


def filter_drive_xml(src: Path, dst: Path) -> FilterStats:
    """Write the drivable part of the OSM XML file ``src`` to the plain OSM XML file ``dst``.

    Ways that reference nodes missing from the file (clipped extracts) keep their
    longest run of present nodes; runs shorter than two nodes are dropped.

    Parameters
    ----------
    src
        OSM XML 0.6 file, plain, bzip2 or gzip (detected from the content).
    dst
        Output path; overwritten.

    Returns
    -------
    FilterStats
        Counts of what was read and kept.

    Raises
    ------
    OSError, EOFError
        If ``src`` cannot be read or decompressed.
    xml.etree.ElementTree.ParseError
        If ``src`` is not well-formed XML.
    ValueError
        If the root element is not ``<osm>``.
    """
    # node id -> (lat, lon, tags); every node is held, since files may put ways first or last
    nodes: dict[str, tuple[str, str, list[tuple[str, str]]]] = {}
    ways: list[tuple[str, list[str], list[tuple[str, str]]]] = []
    ways_read = 0
    with _open_xml(src) as f:
        context = ET.iterparse(f, events=("start", "end"))
        _, root = next(context)
        if root.tag != "osm":
            raise ValueError(f"root element is <{root.tag}>, not <osm>")
        for event, elem in context:
            if event != "end":
                continue
            tag = elem.tag
            if tag == "node":
                tags = [(t.get("k", ""), t.get("v", "")) for t in elem.iter("tag")]
                nodes[elem.get("id", "")] = (elem.get("lat", ""), elem.get("lon", ""), tags)
            elif tag == "way":
                ways_read += 1
                way_tags = {t.get("k", ""): t.get("v", "") for t in elem.iter("tag")}
                if is_drive_way(way_tags):
                    refs = [nd.get("ref", "") for nd in elem.iter("nd")]
                    ways.append((elem.get("id", ""), refs, list(way_tags.items())))
            elif tag != "relation":
                continue
            root.clear()

    kept_ways: list[tuple[str, list[str], list[tuple[str, str]]]] = []
    refs_missing = 0
    used: set[str] = set()
    for way_id, refs, way_tags_list in ways:
        run = refs
        if any(ref not in nodes for ref in refs):
            refs_missing += sum(ref not in nodes for ref in refs)
            run = _longest_present_run(refs, nodes)
        if len(run) >= 2:
            kept_ways.append((way_id, run, way_tags_list))
            used.update(run)

    with dst.open("w", encoding="utf-8") as out:
        out.write("<?xml version='1.0' encoding='UTF-8'?>\n")
        out.write('<osm version="0.6" generator="wastefleet drive filter">\n')
        for node_id in sorted(used, key=int):
            lat, lon, tags = nodes[node_id]
            head = f"  <node id={quoteattr(node_id)} lat={quoteattr(lat)} lon={quoteattr(lon)}"
            if tags:
                out.write(head + ">\n")
                out.writelines(f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>\n" for k, v in tags)
                out.write("  </node>\n")
            else:
                out.write(head + "/>\n")
        for way_id, refs, way_tags_list in kept_ways:
            out.write(f"  <way id={quoteattr(way_id)}>\n")
            out.writelines(f"    <nd ref={quoteattr(ref)}/>\n" for ref in refs)
            out.writelines(f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>\n" for k, v in way_tags_list)
            out.write("  </way>\n")
        out.write("</osm>\n")

    return FilterStats(
        nodes_read=len(nodes),
        ways_read=ways_read,
        ways_kept=len(kept_ways),
        nodes_kept=len(used),
        refs_missing=refs_missing,
    )
