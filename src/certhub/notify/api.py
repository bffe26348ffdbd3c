"""API of notify."""

from ninja import Router

router = Router(tags=["notify"])
