"""An advisory as a PDF (WeasyPrint): every page carries the TLP label, the tracking id and
the revision; a server without Pango answers a clear 503 instead of failing."""

from __future__ import annotations

import os
import sys
from typing import Any

import pytest
from django.test import Client

from certhub.advisories import pdf
from certhub.advisories.selectors import get_advisory
from certhub.advisories.views import _page_context
from tests.advisories.conftest import for_banks, publish
from tests.factories import World

pytestmark = pytest.mark.django_db


def require_weasyprint() -> None:
    """Outside CI a machine without Pango skips (saying so); CI installs it and fails."""
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:
        if os.environ.get("CI"):
            pytest.fail(f"WeasyPrint cannot run in CI ({exc}): .ci/run must install Pango")
        pytest.skip(pdf.PANGO_HINT)


def _texts(box: Any) -> list[str]:
    found = [box.text] if hasattr(box, "text") and isinstance(box.text, str) else []
    for child in getattr(box, "children", []):
        found += _texts(child)
    return found


def margin_texts(page: Any) -> str:
    """The text of a laid-out page's margin boxes (its header and footer)."""
    boxes = [c for c in page._page_box.children if type(c).__name__ == "MarginBox"]
    return " ".join(text for box in boxes for text in _texts(box))


def test_every_page_carries_the_tlp_label_the_tracking_id_and_the_revision(
    world: World,
) -> None:
    require_weasyprint()
    many = [
        {"vendor": "Example Software", "product": f"Module {n}", "versions": f"< {n}.0"}
        for n in range(1, 90)
    ]
    advisory = publish(world, **for_banks(products=many))
    reader = world.users["national-bank.reporter"]
    context = _page_context(reader, get_advisory(reader, advisory.tracking_id))
    document = pdf.render_document(context)
    assert len(document.pages) >= 3
    for number, page in enumerate(document.pages, 1):
        header_and_footer = margin_texts(page)
        assert header_and_footer.count("TLP:AMBER") >= 2, (number, header_and_footer)
        assert advisory.tracking_id in header_and_footer
        assert "revision 1" in header_and_footer
        assert f"{number} / {len(document.pages)}" in header_and_footer


def test_the_pdf_is_served_to_readers_and_on_the_portal(world: World) -> None:
    require_weasyprint()
    advisory = publish(world)  # TLP:CLEAR
    client = Client()
    client.force_login(world.users["telco.reporter"])
    response = client.get(f"/advisories/{advisory.tracking_id}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert f'filename="{advisory.tracking_id}.pdf"' in response["Content-Disposition"]
    public = Client().get(f"/security-advisories/{advisory.tracking_id}/pdf/")
    assert public.status_code == 200
    assert public.content.startswith(b"%PDF-")


def test_without_pango_the_pdf_answers_503_and_says_what_to_install(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    advisory = publish(world)
    # What a machine without Pango looks like to Python: importing weasyprint fails.
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    response = Client().get(f"/security-advisories/{advisory.tracking_id}/pdf/")
    assert response.status_code == 503
    assert "apt-get install libpango-1.0-0 libpangoft2-1.0-0" in response.content.decode()
    # The rest of the site is unaffected.
    assert Client().get(f"/security-advisories/{advisory.tracking_id}/").status_code == 200
