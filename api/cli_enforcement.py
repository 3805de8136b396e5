"""The enforcement commands of ``wastefleet``: ``police``, ``enforcement load``, ``alerts``, ``hotspots``.

``police`` reads files only (it needs no database unless ``--save``); the others
work on the store (``DATABASE_URL`` or ``var/wastefleet.db``). Machine output
(``--json``) goes to stdout; rejections and notes go to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from core.domain import AlertType
from core.errors import ValidationError
from core.settings import Settings

if TYPE_CHECKING:
    from core.store import Store

console = Console()
if not console.is_terminal:
    console = Console(width=150)
errors = Console(stderr=True)

Handler = Callable[[argparse.Namespace, Settings], int]


def _emit(body: Any) -> None:
    sys.stdout.write(json.dumps(body, ensure_ascii=False) + "\n")


# --------------------------------------------------------------------------- police


def _police(args: argparse.Namespace, settings: Settings) -> int:
    from core.enforcement_io import KINDS, load_file
    from core.plan_reader import plan_from_geojson
    from core.reading import parse_json, read_text
    from scheduler.police import EnforcementInputs, alerts_document, police_interchange
    from telematics.positions_csv import read_positions_csv

    ip = plan_from_geojson(parse_json(args.plan, read_text(args.plan)), timezone=args.timezone)
    for rejected in ip.rejected:
        errors.print(f"{args.plan}: {rejected}", markup=False, highlight=False)
    fixes = read_positions_csv(args.positions)
    for issue in fixes.issues:
        errors.print(f"{args.positions}: {issue}", markup=False, highlight=False)
    records: dict[str, tuple[Any, ...]] = {}
    for kind in KINDS:
        records[kind] = ()
        path = getattr(args, kind)
        if path:
            loaded = load_file(kind, path)
            for r in loaded.rejected:
                errors.print(f"{path}: {r}", markup=False, highlight=False)
            records[kind] = tuple(loaded.records)
    inputs = EnforcementInputs(records["sites"], records["zones"], records["permits"], records["tickets"])
    alerts = police_interchange(ip, fixes.tracks, inputs)
    if args.save:
        from core.store import Store

        with Store.open(settings.sqlalchemy_url) as store:
            stored = store.add_positions(fixes.positions, source="file")
            new = store.save_alerts(alerts)
            for kind in KINDS:
                _save_records(store, kind, records[kind])
        errors.print(f"stored {stored} new positions and {new} new alerts", highlight=False)
    if args.json:
        _emit(alerts_document(alerts, evidence=args.evidence))
        return 0
    table = Table(title=f"{len(alerts)} alerts: {ip.plan.district}, {ip.plan.day} ({ip.timezone})")
    for col in ("type", "vehicle", "start (UTC)", "end (UTC)", "stop", "confidence", "signals"):
        table.add_column(col)
    for a in alerts:
        table.add_row(
            a.type.value,
            a.vehicle_id,
            _hm(a.start_utc),
            _hm(a.end_utc),
            a.stop_id or "",
            f"{a.confidence:.2f}",
            ", ".join(a.signals),
        )
    console.print(table)
    return 0


def _hm(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _save_records(store: Store, kind: str, records: Sequence[Any]) -> None:
    """Save enforcement records of ``kind`` (sites, zones, permits or tickets), replacing same ids."""
    saver = {
        "sites": store.save_sites,
        "zones": store.save_zones,
        "permits": store.save_permits,
        "tickets": store.save_tickets,
    }[kind]
    saver(records)  # type: ignore[operator]


# --------------------------------------------------------------------------- enforcement load


def _load(args: argparse.Namespace, settings: Settings) -> int:
    from core.enforcement_io import load_file
    from core.store import Store

    loaded = load_file(args.kind, args.file)
    with Store.open(settings.sqlalchemy_url) as store:
        _save_records(store, args.kind, loaded.records)
    console.print(f"{args.kind}: {len(loaded.records)} accepted and stored, {len(loaded.rejected)} rejected")
    for r in loaded.rejected:
        console.print(f"  rejected {r}", markup=False, highlight=False)
    return 1 if loaded.rejected and not loaded.records else 0


# --------------------------------------------------------------------------- alerts


def _alerts(args: argparse.Namespace, settings: Settings) -> int:
    from core.store import Store

    with Store.open(settings.sqlalchemy_url) as store:
        if args.action == "list":
            return _alerts_list(store, args)
        if args.action in ("ack", "confirm", "dismiss"):
            target = {"ack": "acknowledged", "confirm": "confirmed", "dismiss": "dismissed"}[args.action]
            event = store.change_alert_status(args.key, target, officer=args.officer, note=args.note)
            console.print(
                f"{args.key}: {event.from_status.value} -> {event.to_status.value} by {event.officer}",
                markup=False,
                highlight=False,
            )
            return 0
        if args.action == "history":
            record = store.get_alert_record(args.key)
            events = store.alert_history(args.key)
            if args.json:
                _emit(
                    {
                        "key": record.key,
                        "status": record.status.value,
                        "events": [
                            {
                                "from": e.from_status.value,
                                "to": e.to_status.value,
                                "officer": e.officer,
                                "note": e.note,
                                "at": e.at.isoformat().replace("+00:00", "Z"),
                            }
                            for e in events
                        ],
                    }
                )
                return 0
            console.print(f"{record.key}: {record.status.value}", markup=False, highlight=False)
            for e in events:
                console.print(
                    f"  {e.at:%Y-%m-%d %H:%M:%S} {e.from_status.value} -> {e.to_status.value} "
                    f"by {e.officer}: {e.note}",
                    markup=False,
                    highlight=False,
                )
            return 0
        if args.action == "evidence":
            from scheduler.evidence import evidence_packet, write_packet

            network = None
            if args.streets:
                from core.roads import RoadNetwork

                network = RoadNetwork.load(settings.osm_file, settings.cache_dir)
            packet = evidence_packet(
                store, args.key, network=network, picture=not args.no_picture, timezone=args.timezone
            )
            if args.output:
                written = write_packet(packet, Path(args.output))
                for path in written:
                    errors.print(f"wrote {path}", highlight=False)
            else:
                _emit(packet)
            return 0
        if args.action == "false-positives":
            rows = store.false_positives()
            body = {
                r.type: {"confirmed": r.confirmed, "dismissed": r.dismissed, "false_positive_rate": r.rate}
                for r in rows
            }
            if args.json:
                _emit(body)
                return 0
            table = Table(title="false positives of decided alerts (dismissed / decided)")
            for col in ("alert type", "confirmed", "dismissed", "rate"):
                table.add_column(col)
            for r in rows:
                table.add_row(
                    r.type, str(r.confirmed), str(r.dismissed), f"{r.rate:.3f}" if r.rate is not None else ""
                )
            console.print(table)
            return 0
    raise AssertionError(args.action)  # pragma: no cover


def _alerts_list(store: Any, args: argparse.Namespace) -> int:
    from scheduler.police import alert_entry

    records = store.list_alert_records(status=args.status, type=args.type, vehicle_id=args.vehicle)
    if args.json:
        _emit({"alerts": [{**alert_entry(r.alert), "status": r.status.value} for r in records]})
        return 0
    table = Table(title=f"{len(records)} alerts")
    for col in ("key", "status", "type", "vehicle", "start (UTC)", "confidence"):
        table.add_column(col)
    for r in records:
        a = r.alert
        table.add_row(
            r.key, r.status.value, a.type.value, a.vehicle_id, _hm(a.start_utc), f"{a.confidence:.2f}"
        )
    console.print(table)
    return 0


# --------------------------------------------------------------------------- hotspots


def _hotspots(args: argparse.Namespace, settings: Settings) -> int:
    from core.store import Store
    from telematics.hotspots import find_hotspots, hotspots_document, render_hotspots

    since = None
    if args.since:
        try:
            since = datetime.combine(date.fromisoformat(args.since), datetime.min.time(), UTC).timestamp()
        except ValueError:
            raise ValidationError(
                "--since", "since", f"must be a date YYYY-MM-DD, got {args.since!r}"
            ) from None
    with Store.open(settings.sqlalchemy_url) as store:
        records = store.list_alert_records(since_utc=since)
    alerts = [r.alert for r in records if r.status.value != "dismissed"]
    spots = find_hotspots(alerts, resolution=args.resolution, min_events=args.min_events)
    if args.map:
        errors.print(f"wrote {render_hotspots(Path(args.map), spots, alerts)}", highlight=False)
    if args.json:
        _emit(hotspots_document(spots))
        return 0
    table = Table(title=f"{len(spots)} hotspots of suspicious stops (h3 resolution {args.resolution})")
    for col in ("rank", "cell", "lat", "lon", "events", "vehicles", "days", "score", "first", "last"):
        table.add_column(col)
    for rank, h in enumerate(spots, start=1):
        table.add_row(
            str(rank),
            h.cell,
            f"{h.lat:.5f}",
            f"{h.lon:.5f}",
            str(h.events),
            str(h.vehicles),
            str(h.days),
            f"{h.score:.2f}",
            _hm(h.first_utc),
            _hm(h.last_utc),
        )
    console.print(table)
    return 0


# --------------------------------------------------------------------------- parsers


def add_parsers(sub: Any) -> dict[str, Handler]:
    """Add the enforcement subcommands to ``sub``; returns command name -> handler."""
    police = sub.add_parser("police", help="check GPS positions against any plan in the interchange format")
    police.add_argument("--plan", required=True, help="PLAN.geojson (interchange format, see README)")
    police.add_argument("--positions", required=True, help="POSITIONS.csv (see README)")
    police.add_argument("--permits", help="haulage permits (.csv or .geojson)")
    police.add_argument("--sites", help="approved places (.csv or .geojson)")
    police.add_argument("--zones", help="restricted zones (.geojson)")
    police.add_argument("--tickets", help="weighbridge tickets (.csv)")
    police.add_argument("--timezone", help="IANA time zone of the city (default: the plan's, else UTC)")
    police.add_argument("--json", action="store_true", help='print {"alerts": [...]} as JSON')
    police.add_argument("--evidence", action="store_true", help="include each alert's GeoJSON evidence")
    police.add_argument("--save", action="store_true", help="store the positions, records and alerts")

    enforcement = sub.add_parser("enforcement", help="load enforcement records into the store")
    esub = enforcement.add_subparsers(dest="action", required=True)
    load = esub.add_parser("load", help="load sites, zones, permits or tickets from a file")
    load.add_argument("kind", choices=("sites", "zones", "permits", "tickets"))
    load.add_argument("file", help=".geojson/.json or .csv")

    alerts = sub.add_parser("alerts", help="list stored alerts, decide them, export evidence")
    asub = alerts.add_subparsers(dest="action", required=True)
    listing = asub.add_parser("list", help="stored alerts by start time")
    listing.add_argument("--status", choices=("new", "acknowledged", "confirmed", "dismissed"))
    listing.add_argument("--type", choices=[t.value for t in AlertType], help="alert type")
    listing.add_argument("--vehicle", help="vehicle id")
    listing.add_argument("--json", action="store_true")
    for action, verb in (("ack", "acknowledge"), ("confirm", "confirm"), ("dismiss", "dismiss")):
        p = asub.add_parser(action, help=f"{verb} an alert (kept in its audit trail)")
        p.add_argument("key", help="the alert key (see alerts list)")
        p.add_argument("--officer", required=True, help="who decides")
        p.add_argument("--note", required=True, help="why")
    history = asub.add_parser("history", help="the audit trail of an alert")
    history.add_argument("key")
    history.add_argument("--json", action="store_true")
    evidence = asub.add_parser("evidence", help="the evidence packet of an alert as one JSON document")
    evidence.add_argument("key")
    evidence.add_argument("--output", help="write FILE.json (and FILE.png beside it) instead of stdout")
    evidence.add_argument("--streets", action="store_true", help="draw the streets of the settings' OSM file")
    evidence.add_argument("--no-picture", action="store_true", help="leave the PNG map out")
    evidence.add_argument(
        "--timezone", help="IANA zone of permit days (default: the vehicle's district's, else UTC)"
    )
    fp = asub.add_parser("false-positives", help="dismissed / decided per alert type")
    fp.add_argument("--json", action="store_true")

    hotspots = sub.add_parser("hotspots", help="cluster suspicious stops into ~200 m cells, ranked")
    hotspots.add_argument("--since", help="only alerts from this day on (YYYY-MM-DD, UTC)")
    hotspots.add_argument("--json", action="store_true")
    hotspots.add_argument("--map", help="write a PNG map of the hotspots here")
    hotspots.add_argument(
        "--resolution", type=int, default=9, help="h3 resolution (9: hexagons with ~200 m edges)"
    )
    hotspots.add_argument("--min-events", type=int, default=2, help="fewest suspicious stops in a hotspot")
    return {"police": _police, "enforcement": _load, "alerts": _alerts, "hotspots": _hotspots}
