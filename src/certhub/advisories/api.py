"""API of advisories."""

from ninja import Router

router = Router(tags=["advisories"])
