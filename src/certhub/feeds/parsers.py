"""Reading report files into chunks of harmonized rows.

Every parser yields polars frames with the same shape: ``__line`` (the row's line in
the file), one String column per harmonized field it found (IntelMQ names such as
``source.ip``), ``__extra`` (a JSON object of the remaining non-empty columns) and
``__reject`` (a reason when the parser itself already knows the row is bad). Turning the
strings into checked values is the pipeline's job, the same for every format.

Formats: Shadowserver CSV reports (the type from the file name or the header),
a generic CSV with a declared column mapping, and IntelMQ events as JSON lines.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from django.utils.translation import gettext as _

from certhub.feeds.reports import (
    HARMONIZED_FIELDS,
    REPORT_TYPES,
    ReportType,
    report_type_from_header,
    report_type_from_name,
)

LINE = "__line"
EXTRA = "__extra"
REJECT = "__reject"
GENERIC = "generic"
INTELMQ = "intelmq"


class FileRejected(Exception):
    """The file as a whole cannot be loaded (unknown type, broken CSV, bad mapping): it is
    quarantined with this reason and nothing of it is stored."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class ParsedReport:
    """An opened report: what it is and its rows, chunk by chunk."""

    report_type: str  # scan_http, ..., "generic", "intelmq"
    feed_name: str
    required: tuple[str, ...]  # harmonized fields a row must carry (any one of them)
    batches: Iterator[pl.DataFrame] = field(repr=False)
    time_format: str | None = None


def extra_json(columns: list[str]) -> pl.Expr:
    """One JSON object per row holding the non-empty ``columns`` (vectorised: the struct
    is encoded once, then the members that are null are cut out by name)."""
    if not columns:
        return pl.lit("{}")
    names = "|".join(re.escape(name) for name in columns)
    encoded = pl.struct([pl.col(name) for name in columns]).struct.json_encode()
    # A null member is written `"name":null`; inside a string every quote is escaped, so
    # this pattern only ever matches a real null member.
    return encoded.str.replace_all(f'"(?:{names})":null,?', "").str.replace(r",\}$", "}")


def read_header(path: Path, delimiter: str = ",") -> list[str]:
    with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as handle:
        first = handle.readline()
    if not first.strip():
        raise FileRejected(_("The file is empty."))
    return [column.strip() for column in next(csv.reader([first], delimiter=delimiter))]


def _record_blocks(path: Path, block_size: list[int]) -> Iterator[bytes]:
    """The file after its header line, cut into blocks of whole CSV records (never
    inside a quoted field: a newline ends a record only where the quotes before it are
    balanced). Keeps memory flat however large the file. ``block_size[0]`` is read
    before each block, so the caller can tune it as it learns the row size."""
    with path.open("rb") as handle:
        handle.readline()  # the header
        carry = b""
        while True:
            block = handle.read(block_size[0])
            if not block:
                if carry.strip():
                    yield carry if carry.endswith(b"\n") else carry + b"\n"
                return
            data = carry + block
            cut = len(data)
            while True:
                cut = data.rfind(b"\n", 0, cut)
                if cut < 0 or data.count(b'"', 0, cut) % 2 == 0:
                    break
            if cut < 0:
                carry = data  # one record longer than the block: read on
                continue
            yield data[: cut + 1]
            carry = data[cut + 1 :]


def _csv_batches(
    path: Path,
    header: list[str],
    selections: list[pl.Expr],
    chunk_rows: int,
    delimiter: str = ",",
) -> Iterator[pl.DataFrame]:
    """Chunks of about ``chunk_rows`` rows, read block by block (polars parses each
    block). ``__line`` is the record's line: the header is line 1."""
    line = 2
    block_size = [max(1 << 16, chunk_rows * 256)]
    try:
        for block in _record_blocks(path, block_size):
            batch = pl.read_csv(
                io.BytesIO(block),
                has_header=False,
                new_columns=header,
                separator=delimiter,
                infer_schema=False,
                encoding="utf8-lossy",
                row_index_name=LINE,
                row_index_offset=line,
                raise_if_empty=False,
            )
            if batch.width != len(header) + 1:
                raise FileRejected(
                    _("Line %(line)d onwards does not have the header's %(count)d columns.")
                    % {"line": line, "count": len(header)}
                )
            line += len(batch)
            if len(batch):
                block_size[0] = max(1 << 16, chunk_rows * len(block) // len(batch))
                yield batch.select(pl.col(LINE).cast(pl.Int64), *selections)
    except pl.exceptions.PolarsError as exc:
        raise FileRejected(
            _("The file is not a readable CSV file: %(error)s") % {"error": str(exc)[:300]}
        ) from exc


def _check_unique(header: list[str]) -> None:
    seen: set[str] = set()
    for column in header:
        if column in seen:
            raise FileRejected(_("The column %(column)s appears twice.") % {"column": column})
        seen.add(column)


# --- Shadowserver ---------------------------------------------------------------------


def open_shadowserver(
    path: Path, *, name: str, report_type: str | None, chunk_rows: int
) -> ParsedReport:
    header = read_header(path)
    _check_unique(header)
    report: ReportType | None
    if report_type:
        report = REPORT_TYPES.get(report_type)
        if report is None:
            raise FileRejected(
                _("%(type)s is not a Shadowserver report type certhub knows.")
                % {"type": report_type}
            )
    else:
        report = report_type_from_name(name) or report_type_from_header(header)
    if report is None:
        raise FileRejected(
            _(
                "Unknown report type: neither the file name (%(name)s) nor the columns "
                "match a Shadowserver report certhub knows."
            )
            % {"name": name}
        )
    mapped = {column: report.fields[column] for column in header if column in report.fields}
    present = set(mapped.values())
    missing = [f for f in ("time.source", "source.ip") if f not in present]
    if missing:
        raise FileRejected(
            _("The %(type)s file has no column for %(fields)s.")
            % {"type": report.code, "fields": ", ".join(missing)}
        )
    selections: list[pl.Expr] = [pl.col(column).alias(target) for column, target in mapped.items()]
    for target, value in report.constants.items():
        if target in present:
            selections = [
                s if s.meta.output_name() != target else pl.coalesce(s, pl.lit(value)).alias(target)
                for s in selections
            ]
        else:
            selections.append(pl.lit(value).alias(target))
    identifier = pl.lit(report.identifier)
    if report.identifier_column and report.identifier_column in header:
        identifier = pl.coalesce(pl.col(report.identifier_column).str.to_lowercase(), identifier)
    selections += [
        pl.lit(report.feed_name).alias("feed.name"),
        pl.lit(report.code).alias("feed.code"),
        pl.lit(report.taxonomy).alias("classification.taxonomy"),
        pl.lit(report.type).alias("classification.type"),
        identifier.alias("classification.identifier"),
        extra_json([c for c in header if c not in mapped]).alias(EXTRA),
        pl.lit(None, dtype=pl.String).alias(REJECT),
    ]
    return ParsedReport(
        report_type=report.code,
        feed_name=report.feed_name,
        required=("source.ip",),
        batches=_csv_batches(path, header, selections, chunk_rows),
    )


# --- Generic CSV with a declared mapping -----------------------------------------------

CLASSIFICATION = ("classification.taxonomy", "classification.type", "classification.identifier")


def load_mapping(text: str) -> dict[str, Any]:
    """Check a column mapping (docs/feeds.md): ``feed``, ``columns`` (report column ->
    field), optional ``constants``, ``time_format``, ``delimiter``."""
    try:
        mapping = json.loads(text)
    except ValueError as exc:
        raise FileRejected(_("The column mapping is not valid JSON.")) from exc
    if not isinstance(mapping, dict) or not isinstance(mapping.get("columns"), dict):
        raise FileRejected(_("The column mapping needs a 'columns' object."))
    if not str(mapping.get("feed", "")).strip():
        raise FileRejected(_("The column mapping needs a 'feed' name."))
    constants = mapping.setdefault("constants", {})
    unknown = [
        target
        for target in [*mapping["columns"].values(), *constants]
        if target not in HARMONIZED_FIELDS
    ]
    if unknown:
        raise FileRejected(
            _("The column mapping names fields certhub does not have: %(fields)s")
            % {"fields": ", ".join(map(str, unknown))}
        )
    targets = set(mapping["columns"].values()) | set(constants)
    needed = ["time.source", *CLASSIFICATION]
    lacking = [f for f in needed if f not in targets]
    if lacking:
        raise FileRejected(
            _("The column mapping must give %(fields)s (as a column or a constant).")
            % {"fields": ", ".join(lacking)}
        )
    if not targets & {"source.ip", "source.fqdn", "source.url"}:
        raise FileRejected(_("The column mapping must map source.ip, source.fqdn or source.url."))
    return mapping


def open_generic(path: Path, *, mapping: dict[str, Any], chunk_rows: int) -> ParsedReport:
    delimiter = str(mapping.get("delimiter") or ",")
    header = read_header(path, delimiter)
    _check_unique(header)
    columns: dict[str, str] = mapping["columns"]
    absent = [column for column in columns if column not in header]
    if absent:
        raise FileRejected(
            _("The file lacks the mapped columns %(columns)s.") % {"columns": ", ".join(absent)}
        )
    feed = str(mapping["feed"]).strip()
    selections = [pl.col(column).alias(target) for column, target in columns.items()]
    for target, value in mapping["constants"].items():
        if target not in columns.values():
            selections.append(pl.lit(str(value)).alias(target))
    selections += [
        pl.lit(feed).alias("feed.name"),
        pl.lit(GENERIC).alias("feed.code"),
        extra_json([c for c in header if c not in columns]).alias(EXTRA),
        pl.lit(None, dtype=pl.String).alias(REJECT),
    ]
    return ParsedReport(
        report_type=GENERIC,
        feed_name=feed,
        required=("source.ip", "source.fqdn", "source.url"),
        batches=_csv_batches(path, header, selections, chunk_rows, delimiter),
        time_format=mapping.get("time_format") or None,
    )


# --- IntelMQ JSON lines ----------------------------------------------------------------


def _flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _flatten(inner, f"{prefix}{key}.")
    else:
        yield prefix[:-1], value


def _intelmq_row(line_no: int, text: str) -> dict[str, Any]:
    row: dict[str, Any] = {LINE: line_no}
    try:
        event = json.loads(text)
    except ValueError:
        row[REJECT] = _("not valid JSON")
        return row
    if not isinstance(event, dict):
        row[REJECT] = _("not a JSON object")
        return row
    extra: dict[str, Any] = {}
    for key, value in _flatten(event):
        if value is None or value == "" or key in {"raw", "__type"}:
            continue
        if key in HARMONIZED_FIELDS:
            row[key] = value if isinstance(value, str) else json.dumps(value)
        elif key.startswith("extra."):
            extra[key.removeprefix("extra.")] = value
        else:
            # IntelMQ fields certhub keeps no column for stay with the event, by name.
            extra[key] = value
    row[EXTRA] = json.dumps(extra, ensure_ascii=False, sort_keys=True)
    return row


def _intelmq_batches(path: Path, chunk_rows: int) -> Iterator[pl.DataFrame]:
    schema = {LINE: pl.Int64, EXTRA: pl.String, REJECT: pl.String}
    schema |= dict.fromkeys(sorted(HARMONIZED_FIELDS), pl.String)
    rows: list[dict[str, Any]] = []
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        for line_no, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            rows.append(_intelmq_row(line_no, text))
            if len(rows) >= chunk_rows:
                yield _intelmq_frame(rows, schema)
                rows = []
    if rows:
        yield _intelmq_frame(rows, schema)


def _intelmq_frame(rows: list[dict[str, Any]], schema: dict[str, Any]) -> pl.DataFrame:
    frame = pl.DataFrame(rows, schema=schema)
    return frame.with_columns(pl.coalesce(pl.col("feed.code"), pl.lit(INTELMQ)).alias("feed.code"))


def open_intelmq(path: Path, *, chunk_rows: int) -> ParsedReport:
    return ParsedReport(
        report_type=INTELMQ,
        feed_name="",
        required=("source.ip", "source.fqdn", "source.url"),
        batches=_intelmq_batches(path, chunk_rows),
    )


def looks_like_json_lines(path: Path, name: str) -> bool:
    if name.lower().endswith((".jsonl", ".ndjson", ".json")):
        return True
    with path.open("rb") as handle:
        start = handle.read(64).lstrip()
    return start.startswith(b"{")


def open_report(
    path: Path,
    *,
    name: str,
    report_type: str | None = None,
    mapping: dict[str, Any] | None = None,
    chunk_rows: int = 50_000,
) -> ParsedReport:
    """Open ``path`` (received as ``name``) with the right parser. Raises FileRejected."""
    if mapping is not None:
        return open_generic(path, mapping=mapping, chunk_rows=chunk_rows)
    if report_type == INTELMQ or (report_type is None and looks_like_json_lines(path, name)):
        return open_intelmq(path, chunk_rows=chunk_rows)
    return open_shadowserver(path, name=name, report_type=report_type, chunk_rows=chunk_rows)


def csv_text(rows: list[list[str]]) -> str:
    """Small helper for tests and the benchmark: rows as CSV text."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()
