"""The bulk event pipeline for one opened report: check and convert each chunk
(vectorised), enrich and route it, merge same-day re-sightings, hand it to the bulk
writer, and account for every row. No transaction handling here: the service that
calls ``load_report`` owns the file's transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl
from django.conf import settings
from django.utils.translation import gettext as _

from certhub.feeds.parsers import EXTRA, LINE, REJECT, FileRejected, ParsedReport
from certhub.feeds.reports import FIELD_COLUMNS, INTEGER_FIELDS
from certhub.feeds.routing import Router
from certhub.feeds.storage import BulkWriter

MAX_STORED_REJECTIONS = 1000
DEFAULT_IDENTITY = ("feed.name", "classification.identifier", "source.ip", "source.port")
IPV4_MAPPED = "00000000000000000000ffff"
_HEX = [f"{i:02x}" for i in range(256)]
_OCTET = r"(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = rf"^{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}$"
_URL_HOST = r"^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?([^:/?#\[\]]+)"


def identity_fields() -> tuple[str, ...]:
    """The fields that make two sightings on the same day one event (with the day)."""
    configured = getattr(settings, "CERTHUB_FEEDS_IDENTITY", None) or DEFAULT_IDENTITY
    unknown = [name for name in configured if name not in FIELD_COLUMNS]
    if unknown:
        raise ValueError(f"CERTHUB_FEEDS_IDENTITY names unknown fields: {unknown}")
    return tuple(configured)


@dataclass
class Tally:
    rows: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    unrouted: int = 0
    rejections: list[dict[str, object]] = field(default_factory=list)
    feed_name: str = ""
    last_day: dt.date | None = None
    # Every event day the file touched: what the events_loaded signal hands on.
    days: set[dt.date] = field(default_factory=set)

    def reject(self, frame: pl.DataFrame) -> None:
        self.rejected += len(frame)
        room = MAX_STORED_REJECTIONS - len(self.rejections)
        if room > 0:
            self.rejections.extend(
                {"line": line, "reason": reason}
                for line, reason in frame.select(LINE, REJECT).head(room).iter_rows()
            )


# --- Checking and converting ------------------------------------------------------------


def _address(raw: str) -> tuple[str, str, str | None] | None:
    """IPv6 (or an IPv4 network on a blocklist): canonical text, key, network or None."""
    text = raw.strip()
    try:
        if "/" in text:
            network = ipaddress.ip_network(text, strict=False)
            address: ipaddress.IPv4Address | ipaddress.IPv6Address = network.network_address
            net: str | None = str(network)
        else:
            address = ipaddress.ip_address(text)
            net = None
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if isinstance(address, ipaddress.IPv4Address):
        return str(address), f"{0xFFFF_0000_0000 | int(address):032x}", net
    return str(address), f"{int(address):032x}", net


def _addresses(frame: pl.DataFrame) -> pl.DataFrame:
    """source_ip (canonical), source_ip_key, source_network; IPv4 vectorised, the rest
    (IPv6, networks: few rows) through ipaddress once per distinct value."""
    raw = pl.col("source.ip").str.strip_chars()
    octets = raw.str.extract_groups(_IPV4)
    parts = [octets.struct.field(str(i)).cast(pl.UInt8, strict=False) for i in range(1, 5)]
    frame = frame.with_columns(
        _v4_key=pl.concat_str(
            [pl.lit(IPV4_MAPPED), *[p.replace_strict(list(range(256)), _HEX) for p in parts]]
        ),
        _v4_text=pl.concat_str([p.cast(pl.String) for p in parts], separator="."),
    )
    others = (
        frame.filter(pl.col("_v4_key").is_null() & pl.col("source.ip").is_not_null())["source.ip"]
        .unique()
        .to_list()
    )
    parsed = {value: _address(value) for value in others}
    table = pl.DataFrame(
        {
            "source.ip": list(parsed),
            "_other_text": [p[0] if p else None for p in parsed.values()],
            "_other_key": [p[1] if p else None for p in parsed.values()],
            "source_network": [p[2] if p else None for p in parsed.values()],
        },
        schema={
            "source.ip": pl.String,
            "_other_text": pl.String,
            "_other_key": pl.String,
            "source_network": pl.String,
        },
    )
    frame = frame.join(table, on="source.ip", how="left", maintain_order="left")
    return frame.with_columns(
        source_ip=pl.coalesce("_v4_text", "_other_text"),
        source_ip_key=pl.coalesce("_v4_key", "_other_key"),
    ).drop("_v4_key", "_v4_text", "_other_text", "_other_key")


def _timestamps(column: pl.Expr, time_format: str | None) -> pl.Expr:
    if time_format:
        return column.str.strptime(
            pl.Datetime("us"), time_format, strict=False
        ).dt.replace_time_zone("UTC")
    text = column.str.strip_chars().str.replace(r"^(\d{4}-\d{2}-\d{2})T", "$1 ")
    # "…Z", "…+00", "…+00:00", "… UTC" are all UTC; other offsets are converted.
    utc = text.str.replace(r"(?i)(Z|\s*UTC|\+00(:?00)?)$", "")
    naive = utc.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S%.f", strict=False)
    offset = text.str.replace(r"([+-]\d{2})$", "$1:00").str.strptime(
        pl.Datetime("us", "UTC"), "%Y-%m-%d %H:%M:%S%.f%:z", strict=False
    )
    return pl.coalesce(naive.dt.replace_time_zone("UTC"), offset)


def _integer(name: str) -> pl.Expr:
    text = pl.col(name).str.strip_chars()
    if name.endswith(".asn"):
        text = text.str.replace(r"^(?i:AS)", "")
    return text.cast(pl.Int64, strict=False)


def normalise(
    batch: pl.DataFrame, report: ParsedReport, observed_at: dt.datetime
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(valid rows in Event columns, rejected rows with __line and __reject)."""
    for name in FIELD_COLUMNS:
        if name not in batch.columns:
            batch = batch.with_columns(pl.lit(None, dtype=pl.String).alias(name))
    batch = _addresses(batch)
    batch = batch.with_columns(
        _time=_timestamps(pl.col("time.source"), report.time_format),
        **{f"_{name}": _integer(name) for name in INTEGER_FIELDS},
        __host=pl.col("source.url").str.extract(_URL_HOST).str.to_lowercase(),
    )
    port = pl.col("_source.port")
    has_target = pl.any_horizontal(
        [pl.col("source_ip").is_not_null()]
        + [pl.col(f).is_not_null() for f in report.required if f != "source.ip"]
    )
    reason = (
        pl.when(pl.col(REJECT).is_not_null())
        .then(pl.col(REJECT))
        .when(pl.col("time.source").is_null())
        .then(pl.lit(_("time.source is missing")))
        .when(pl.col("_time").is_null())
        .then(pl.format(_("time.source is not a timestamp: {}"), pl.col("time.source")))
        .when(pl.col("source.ip").is_not_null() & pl.col("source_ip").is_null())
        .then(pl.format(_("source.ip is not an IP address: {}"), pl.col("source.ip")))
        .when(pl.col("source.ip").is_null() & ~has_target)
        .then(
            pl.lit(
                _("source.ip is missing")
                if report.required == ("source.ip",)
                else _("the row has no source.ip, source.fqdn or source.url")
            )
        )
        .when(pl.col("source.port").is_not_null() & (port.is_null() | (port < 0) | (port > 65535)))
        .then(pl.format(_("source.port is not a port number: {}"), pl.col("source.port")))
        .when(pl.col("classification.identifier").is_null() | pl.col("feed.name").is_null())
        .then(pl.lit(_("the row has no classification.identifier or feed.name")))
    )
    batch = batch.with_columns(reason.alias(REJECT))
    rejected = batch.filter(pl.col(REJECT).is_not_null()).select(LINE, REJECT)
    valid = batch.filter(pl.col(REJECT).is_null())
    strings = {
        FIELD_COLUMNS[name]: pl.col(name)
        for name in FIELD_COLUMNS
        if name not in INTEGER_FIELDS and name not in {"time.source", "source.ip", "source.network"}
    }
    valid = valid.select(
        pl.col(LINE).alias("line"),
        pl.col("_time").alias("time_source"),
        pl.col("_time").dt.date().alias("day"),
        pl.col("_time").alias("last_seen"),
        pl.lit(observed_at, dtype=pl.Datetime("us", "UTC")).alias("time_observation"),
        pl.col("source_ip"),
        pl.col("source_ip_key"),
        pl.coalesce(pl.col("source_network"), pl.col("source.network")).alias("source_network"),
        *[
            pl.when(pl.col(f"_{name}") >= 0).then(pl.col(f"_{name}")).alias(FIELD_COLUMNS[name])
            for name in INTEGER_FIELDS
        ],
        *[expr.alias(column) for column, expr in strings.items()],
        pl.col(EXTRA).fill_null("{}").alias("extra"),
        pl.col("__host"),
    ).with_columns(
        # A report's AS 0 means "unknown".
        source_asn=pl.when(pl.col("source_asn") > 0).then(pl.col("source_asn")),
        destination_asn=pl.when(pl.col("destination_asn") > 0).then(pl.col("destination_asn")),
        source_fqdn=pl.col("source_fqdn").str.to_lowercase().str.strip_suffix("."),
        classification_identifier=pl.col("classification_identifier").str.strip_chars(),
    )
    return valid, rejected


def identity_expr(fields: tuple[str, ...]) -> pl.Expr:
    parts = []
    for name in fields:
        column = "source_ip_key" if name == "source.ip" else FIELD_COLUMNS[name]
        parts.append(pl.col(column).cast(pl.String).fill_null(""))
    return pl.concat_str(parts, separator="|")


def identity_hash(identities: pl.Series) -> pl.Series:
    """The stored dedup key of each identity text: the first 8 bytes of its BLAKE2b
    digest as a signed 64-bit integer. hashlib, not polars' ``hash``: the key lives in
    the database, so it must not change with the library version."""
    digest = hashlib.blake2b
    return pl.Series(
        [digest(text.encode(), digest_size=8).digest() for text in identities.to_list()],
        dtype=pl.Binary,
    ).bin.reinterpret(dtype=pl.Int64, endianness="big")


def merge_sightings(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per (day, identity): the first sighting, with count and last_seen."""
    return frame.with_columns(
        count=pl.len().over("day", "identity_hash").cast(pl.Int64),
        last_seen=pl.col("time_source").max().over("day", "identity_hash"),
    ).unique(subset=["day", "identity_hash"], keep="first", maintain_order=True)


def load_report(
    report: ParsedReport,
    *,
    file_id: int,
    router: Router,
    writer: BulkWriter,
    observed_at: dt.datetime,
    progress: Callable[[int], None] | None = None,
) -> Tally:
    """Run every chunk of ``report`` through the pipeline. Raises FileRejected when the
    file turns out to be unreadable part way (the caller rolls the file back)."""
    tally = Tally(feed_name=report.feed_name)
    fields = identity_fields()
    for batch in report.batches:
        tally.rows += len(batch)
        valid, rejected = normalise(batch, report, observed_at)
        if len(rejected):
            tally.reject(rejected)
        if len(valid):
            if not tally.feed_name:
                tally.feed_name = str(valid["feed_name"][0])
            valid = router.enrich_asn(valid)
            valid = router.route(valid)
            valid = valid.with_columns(
                identity_hash=identity_hash(valid.select(identity_expr(fields)).to_series()),
                file_id=pl.lit(file_id, dtype=pl.Int64),
            ).drop("__host")
            merged = merge_sightings(valid)
            tally.days.update(merged["day"].unique().to_list())
            day = merged["day"].max()
            if isinstance(day, dt.date) and (tally.last_day is None or day > tally.last_day):
                tally.last_day = day
            written = writer.write(merged)
            tally.accepted += written.inserted
            tally.duplicates += len(valid) - written.inserted
            tally.unrouted += written.unrouted
        if progress is not None:
            progress(len(batch))
    if tally.accepted + tally.duplicates + tally.rejected != tally.rows:
        raise RuntimeError("feeds accounting does not add up")  # a bug, never a user error
    if tally.rows == 0:
        raise FileRejected(_("The file holds no rows."))
    return tally
