"""The national situation report (monthly or quarterly) as a PDF, and every dashboard
table as CSV or XLSX.

The report is laid out by WeasyPrint from an HTML template, like the advisory PDFs
(advisories/pdf.py: WeasyPrint is imported lazily and a server without Pango answers
503). Its charts are the dashboards' SVG plots, embedded as images, so the PDF holds
the same figures the pages show. The national edition adds the most affected
organizations, the advisories by name and the notable incidents anonymised to sector
and category; the Council edition has aggregates only.
"""

from __future__ import annotations

import base64
import calendar
import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from certhub.advisories.pdf import _weasyprint
from certhub.awareness import plots
from certhub.awareness.models import NationalReport
from certhub.awareness.selectors import (
    COUNCIL,
    NATIONAL,
    Filters,
    Reach,
    Table,
    dashboard_tables,
    notable_incidents,
)
from certhub.core.errors import Invalid
from certhub.tenancy.tlp import TLP, tlp_label

STYLESHEET = Path(__file__).parent / "static" / "awareness" / "report.css"
ROWS_IN_REPORT = 20


def period_bounds(
    period: str, month: str | None = None, *, today: dt.date | None = None
) -> tuple[dt.date, dt.date]:
    """First and last day of the report period: the month ``YYYY-MM`` (monthly) or the
    quarter holding it (quarterly); without a month, the last complete one."""
    today = today or timezone.now().date()
    if period not in NationalReport.Period.values:
        raise Invalid(_("The period is monthly or quarterly."))
    if month:
        try:
            first = dt.datetime.strptime(month.strip(), "%Y-%m").date()
        except ValueError:
            raise Invalid(_("The month must be written YYYY-MM.")) from None
    else:
        first = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
        if period == NationalReport.Period.QUARTERLY:
            quarter_start = today.replace(month=3 * ((today.month - 1) // 3) + 1, day=1)
            first = (quarter_start - dt.timedelta(days=1)).replace(day=1)
    if period == NationalReport.Period.QUARTERLY:
        first = first.replace(month=3 * ((first.month - 1) // 3) + 1)
        last_month = first.month + 2
        last = first.replace(month=last_month, day=calendar.monthrange(first.year, last_month)[1])
    else:
        last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    return first, last


def report_title(period: str, edition: str, start: dt.date) -> str:
    if period == NationalReport.Period.QUARTERLY:
        when = f"{start.year} Q{(start.month - 1) // 3 + 1}"
        title = _("National cyber situation report, %(when)s") % {"when": when}
    else:
        title = _("National cyber situation report, %(when)s") % {"when": f"{start:%B %Y}"}
    if edition == NationalReport.Edition.COUNCIL:
        title += " " + _("(CERT Council edition)")
    return title


def _svg_data_uri(table: Table) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(plots.render_svg(table)).decode()


def report_context(
    *, period: str, edition: str, start: dt.date, end: dt.date, user: Any = None
) -> dict[str, Any]:
    """What ``awareness/report_pdf.html`` shows. ``user`` (who generates it) limits the
    advisories to those it may read; without one (the command line, a task), every
    advisory but TLP:RED ones."""
    audience = COUNCIL if edition == NationalReport.Edition.COUNCIL else NATIONAL
    reach = Reach(audience, "", "")
    tables = dashboard_tables(user, reach, Filters(start=start, end=end))
    by_name = {t.name: t for t in tables}
    figures = []
    for table in tables:
        figures.append(
            {
                "table": table,
                "image": _svg_data_uri(table) if table.chart else "",
                "rows": table.rows[:ROWS_IN_REPORT],
                "more": max(0, len(table.rows) - ROWS_IN_REPORT),
            }
        )
    health = by_name.get("team_health")
    decided = sum(row[4] for row in health.rows) if health else 0
    met = sum(row[5] for row in health.rows) if health else 0
    summary = {
        "incidents": sum(row[1] for row in by_name["incidents_priority"].rows),
        "open": sum(row[2] for row in health.rows) if health else 0,
        "overdue": sum(row[3] for row in health.rows) if health else 0,
        "sla": round(100 * met / decided) if decided else None,
        "events": sum(
            v for row in by_name["events_sector_week"].rows for v in row[1:] if isinstance(v, int)
        ),
    }
    return {
        "title": report_title(period, edition, start),
        "period": period,
        "edition": edition,
        "council": edition == NationalReport.Edition.COUNCIL,
        "start": start,
        "end": end,
        "generated_at": timezone.now(),
        "publisher": getattr(settings, "CERTHUB_CSAF_PUBLISHER_NAME", "National CERT"),
        "tlp": tlp_label(TLP.AMBER),
        "summary": summary,
        "figures": figures,
        "notable": []
        if edition == NationalReport.Edition.COUNCIL
        else notable_incidents(start, end),
    }


def render_report_pdf(context: dict[str, Any]) -> bytes:
    weasyprint = _weasyprint()
    html = render_to_string("awareness/report_pdf.html", context)
    stylesheet = weasyprint.CSS(filename=str(STYLESHEET))
    return bytes(weasyprint.HTML(string=html).write_pdf(stylesheets=[stylesheet]))


# --- Tables as files --------------------------------------------------------------------


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        # Spreadsheets run cells starting like a formula: quote them (CSV injection).
        return "'" + value
    return value


def table_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([str(c) for c in table.columns])
    for row in table.rows:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


def tables_xlsx(tables: list[Table], *, title: str = "") -> bytes:
    """Every table on its own sheet (XlsxWriter: write-only, in memory)."""
    import xlsxwriter

    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    workbook.set_properties({"title": title or "certhub statistics", "creator": "certhub"})
    bold = workbook.add_format({"bold": True})
    used: set[str] = set()
    for table in tables:
        name = table.name[:31]
        while name in used:
            name = name[:28] + str(len(used))
        used.add(name)
        sheet = workbook.add_worksheet(name)
        sheet.write_row(0, 0, [str(table.title)], bold)
        sheet.write_row(1, 0, [str(c) for c in table.columns], bold)
        for i, row in enumerate(table.rows, start=2):
            sheet.write_row(i, 0, ["" if v is None else v for v in row])
        sheet.set_column(0, 0, 28)
    workbook.close()
    return out.getvalue()
