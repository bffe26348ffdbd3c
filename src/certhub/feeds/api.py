"""API of feeds."""

from ninja import Router

router = Router(tags=["feeds"])
