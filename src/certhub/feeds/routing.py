"""Enrichment and routing of events, vectorised.

Networks (an organization's CIDR assets, the operator's prefix-to-AS table) nest: an
ISP's /16 holds its customers' /24s. Longest-prefix match over a nested set is turned
into a lookup in *disjoint* ranges once per ingest: the prefixes are flattened into
elementary segments, each carrying the most specific prefix that covers it. An address
is then found with one binary search over the sorted segment starts (polars
``search_sorted``, O(log n) per address, all addresses of a chunk at once) and one
comparison with that segment's end. CIDR prefixes never partly overlap, so at most
2n+1 segments come out of n prefixes.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from certhub.tenancy.choices import AssetKind
from certhub.tenancy.models import Asset, Organization

KEY_DIGITS = 32


def key_of(value: int) -> str:
    return f"{value:0{KEY_DIGITS}x}"


def flatten(ranges: Iterable[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """``(start, end, owner)`` prefixes, possibly nested -> disjoint ``(start, end, owner)``
    segments where each address maps to the owner of its most specific prefix. Of two
    identical prefixes the later one wins."""
    # Outer prefixes first at the same start, so inner ones are pushed above them.
    ordered = sorted(ranges, key=lambda r: (r[0], -r[1]))
    segments: list[tuple[int, int, int]] = []
    stack: list[tuple[int, int]] = []  # (end, owner) of the open prefixes, innermost last
    cursor = 0

    def emit(start: int, end: int, owner: int) -> None:
        if start <= end:
            if segments and segments[-1][2] == owner and segments[-1][1] + 1 == start:
                segments[-1] = (segments[-1][0], end, owner)
            else:
                segments.append((start, end, owner))

    for start, end, owner in ordered:
        while stack and stack[-1][0] < start:
            top_end, top_owner = stack.pop()
            emit(cursor, top_end, top_owner)
            cursor = top_end + 1
        if stack:
            emit(cursor, start - 1, stack[-1][1])
        if stack and stack[-1][0] == end:
            # Same end: the open prefix has nothing left after this one (or is the same
            # prefix twice, and the later one wins).
            stack.pop()
        stack.append((end, owner))
        cursor = start
    while stack:
        top_end, top_owner = stack.pop()
        emit(cursor, top_end, top_owner)
        cursor = top_end + 1
    return segments


@dataclass(frozen=True)
class RangeTable:
    """Disjoint sorted segments, searchable with polars."""

    starts: pl.Series
    ends: pl.Series
    owners: pl.Series

    @classmethod
    def build(cls, ranges: Iterable[tuple[int, int, int]]) -> RangeTable:
        segments = flatten(ranges)
        return cls(
            starts=pl.Series([key_of(s) for s, _e, _o in segments], dtype=pl.String),
            ends=pl.Series([key_of(e) for _s, e, _o in segments], dtype=pl.String),
            owners=pl.Series([o for _s, _e, o in segments], dtype=pl.Int64),
        )

    def __len__(self) -> int:
        return len(self.starts)

    def lookup(self, keys: pl.Series) -> pl.Series:
        """The owner of each 32-hex-digit address key (null when none covers it)."""
        if len(self) == 0 or len(keys) == 0:
            return pl.Series([None] * len(keys), dtype=pl.Int64)
        filled = keys.fill_null("")
        position = self.starts.search_sorted(filled, side="right").cast(pl.Int64) - 1
        frame = pl.DataFrame({"key": keys, "pos": position})
        index = frame["pos"].clip(lower_bound=0)
        frame = frame.with_columns(end=self.ends.gather(index), owner=self.owners.gather(index))
        return frame.select(
            pl.when((pl.col("pos") >= 0) & (pl.col("key") <= pl.col("end")))
            .then(pl.col("owner"))
            .otherwise(None)
        ).to_series()


def _cidr_bounds(start_key: str, end_key: str) -> tuple[int, int]:
    return int(start_key, 16), int(end_key, 16)


@dataclass(frozen=True)
class OrgInfo:
    team_id: int
    sector_id: int
    is_cii: bool


class Router:
    """Everything an ingest needs to enrich and route, loaded once per file in bulk."""

    def __init__(
        self,
        *,
        cidrs: RangeTable,
        asn_owners: dict[int, int],
        domain_owners: dict[str, int],
        orgs: dict[int, OrgInfo],
        asn_prefixes: RangeTable,
        asn_names: dict[int, str],
    ) -> None:
        self.cidrs = cidrs
        self.asn_owners = asn_owners
        self.domain_owners = domain_owners
        self.orgs = orgs
        self.asn_prefixes = asn_prefixes
        self.asn_names = asn_names
        self.max_domain_labels = max((d.count(".") + 1 for d in domain_owners), default=0)
        self.org_frame = pl.DataFrame(
            {
                "organization_id": list(orgs),
                "team_id": [info.team_id for info in orgs.values()],
                "sector_id": [info.sector_id for info in orgs.values()],
                "is_cii": [info.is_cii for info in orgs.values()],
            },
            schema={
                "organization_id": pl.Int64,
                "team_id": pl.Int64,
                "sector_id": pl.Int64,
                "is_cii": pl.Boolean,
            },
        )

    @classmethod
    def load(cls) -> Router:
        from certhub.feeds.models import AsnPrefix

        cidr_rows = Asset.objects.filter(kind=AssetKind.CIDR).values_list(
            "range_start", "range_end", "organization_id"
        )
        cidrs = RangeTable.build(
            (*_cidr_bounds(start, end), org) for start, end, org in cidr_rows.iterator()
        )
        asn_owners = dict(
            Asset.objects.filter(kind=AssetKind.ASN).values_list("asn", "organization_id")
        )
        domain_owners = dict(
            Asset.objects.filter(kind=AssetKind.DOMAIN).values_list("value", "organization_id")
        )
        orgs = {
            pk: OrgInfo(team_id=team, sector_id=sector, is_cii=cii)
            for pk, team, sector, cii in Organization.objects.values_list(
                "pk", "responsible_team_id", "sector_id", "is_cii"
            )
        }
        prefix_rows = AsnPrefix.objects.values_list("range_start", "range_end", "asn", "as_name")
        names: dict[int, str] = {}
        ranges: list[tuple[int, int, int]] = []
        for start, end, asn, name in prefix_rows.iterator(chunk_size=10_000):
            ranges.append((*_cidr_bounds(start, end), asn))
            if name:
                names.setdefault(asn, name)
        return cls(
            cidrs=cidrs,
            asn_owners={int(k): v for k, v in asn_owners.items() if k is not None},
            domain_owners=domain_owners,
            orgs=orgs,
            asn_prefixes=RangeTable.build(ranges),
            asn_names=names,
        )

    # --- the steps, each on a whole chunk -------------------------------------------------

    def enrich_asn(self, frame: pl.DataFrame) -> pl.DataFrame:
        """source.asn from the report, else from the prefix table; source.as_name by AS."""
        table_asn = self.asn_prefixes.lookup(frame["source_ip_key"])
        frame = frame.with_columns(
            source_asn=pl.coalesce(pl.col("source_asn"), table_asn.alias("t"))
        )
        if not self.asn_names:
            return frame.with_columns(source_as_name=pl.col("source_as_name"))
        names = pl.DataFrame(
            {"source_asn": list(self.asn_names), "_name": list(self.asn_names.values())},
            schema={"source_asn": pl.Int64, "_name": pl.String},
        )
        return (
            frame.join(names, on="source_asn", how="left", maintain_order="left")
            .with_columns(source_as_name=pl.coalesce(pl.col("source_as_name"), pl.col("_name")))
            .drop("_name")
        )

    def route(self, frame: pl.DataFrame) -> pl.DataFrame:
        """organization_id by longest-prefix match over CIDR assets, then by AS number,
        then by the longest registered domain suffix of source.fqdn or the URL host;
        then the organization's team, sector and CII flag."""
        by_cidr = self.cidrs.lookup(frame["source_ip_key"])
        frame = frame.with_columns(
            organization_id=by_cidr,
            routed_by=pl.when(by_cidr.is_not_null()).then(pl.lit("cidr")),
        )
        if self.asn_owners:
            owners = pl.DataFrame(
                {"source_asn": list(self.asn_owners), "_org": list(self.asn_owners.values())},
                schema={"source_asn": pl.Int64, "_org": pl.Int64},
            )
            frame = frame.join(owners, on="source_asn", how="left", maintain_order="left")
            frame = frame.with_columns(
                routed_by=pl.when(
                    pl.col("organization_id").is_null() & pl.col("_org").is_not_null()
                )
                .then(pl.lit("asn"))
                .otherwise(pl.col("routed_by")),
                organization_id=pl.coalesce("organization_id", "_org"),
            ).drop("_org")
        if self.domain_owners:
            frame = self._route_domains(frame)
        return frame.join(
            self.org_frame, on="organization_id", how="left", maintain_order="left"
        ).with_columns(pl.col("is_cii").fill_null(False))

    def _route_domains(self, frame: pl.DataFrame) -> pl.DataFrame:
        host = pl.coalesce(pl.col("source_fqdn"), pl.col("__host"))
        labels = host.str.split(".")
        domains = pl.DataFrame(
            {"_suffix": list(self.domain_owners), "_org": list(self.domain_owners.values())},
            schema={"_suffix": pl.String, "_org": pl.Int64},
        )
        found = pl.lit(None, dtype=pl.Int64)
        # Most specific suffix first: a registered sub-domain beats its parent.
        for depth in range(self.max_domain_labels, 1, -1):
            frame = frame.with_columns(
                _suffix=pl.when(labels.list.len() >= depth).then(
                    labels.list.slice(-depth, depth).list.join(".")
                )
            ).join(domains, on="_suffix", how="left", maintain_order="left")
            frame = frame.rename({"_org": f"_org{depth}"}).drop("_suffix")
            found = pl.coalesce(found, pl.col(f"_org{depth}"))
        frame = frame.with_columns(_domain_org=found).drop(
            [f"_org{d}" for d in range(self.max_domain_labels, 1, -1)]
        )
        return frame.with_columns(
            routed_by=pl.when(
                pl.col("organization_id").is_null() & pl.col("_domain_org").is_not_null()
            )
            .then(pl.lit("domain"))
            .otherwise(pl.col("routed_by")),
            organization_id=pl.coalesce("organization_id", "_domain_org"),
        ).drop("_domain_org")


def network_bounds(text: str) -> tuple[str, int, int, int]:
    """``192.0.2.0/24`` -> (normalised, start, end, prefix length) as key integers."""
    network = ipaddress.ip_network(text.strip(), strict=False)
    base = 0xFFFF_0000_0000 if network.version == 4 else 0
    return (
        str(network),
        base | int(network.network_address),
        base | int(network.broadcast_address),
        network.prefixlen,
    )
