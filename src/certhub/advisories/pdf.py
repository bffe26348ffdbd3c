"""An advisory as a PDF, rendered by WeasyPrint from the same content as the HTML page.

WeasyPrint needs Pango (a system library); it is imported here, lazily, so certhub starts
and serves everything else on a machine without it. Every page carries the TLP label at
its top (and again in the footer) and the tracking id and revision at its foot, through
CSS ``@page`` margin boxes (advisories/static/advisories/pdf.css).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from certhub.core.errors import CerthubError

STYLESHEET = Path(__file__).parent / "static" / "advisories" / "pdf.css"
PANGO_HINT = "needs Pango (apt-get install libpango-1.0-0 libpangoft2-1.0-0)"


class PdfUnavailable(CerthubError):
    """WeasyPrint cannot run here (Pango is missing): the operator installs it."""

    status = 503


def _weasyprint() -> Any:
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: WeasyPrint found no Pango library
        raise PdfUnavailable(
            _("PDF export is not available on this server: it %(hint)s.") % {"hint": PANGO_HINT}
        ) from exc
    return weasyprint


def render_document(context: dict[str, Any], *, base_url: str = "") -> Any:
    """The laid-out pages (a ``weasyprint.Document``) of an advisory. ``context`` is what
    ``advisories/pdf.html`` needs: ``advisory`` (the content as ``presentation.present``
    gives it), ``tracking_id``, ``revision`` (the latest revision or None),
    ``status_note`` (e.g. "Draft, not published") and ``publisher``."""
    weasyprint = _weasyprint()
    html = render_to_string("advisories/pdf.html", context)
    stylesheet = weasyprint.CSS(filename=str(STYLESHEET))
    return weasyprint.HTML(string=html, base_url=base_url or None).render(stylesheets=[stylesheet])


def render_pdf(context: dict[str, Any], *, base_url: str = "") -> bytes:
    """The PDF of an advisory (see ``render_document``)."""
    return bytes(render_document(context, base_url=base_url).write_pdf())
