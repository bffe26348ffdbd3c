"""Signals the constituency sends to the apps above it (they may not be imported here).

``demo_built``: sent at the end of ``build_demo`` inside its transaction, with ``actor``
(the demo's platform administrator), so higher apps add their own demo records (the
awareness app adds the CERT Council's members, meetings and register). Receivers must
be idempotent: the demo is built again on every ``certhub demo``."""

from django.dispatch import Signal

demo_built = Signal()
