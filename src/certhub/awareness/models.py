"""Situational awareness (DESIGN.md section 6): daily rollups, stored national reports,
and (council_models) the CERT Council's members, meetings, recommendations and disputes."""

from certhub.awareness.council_models import *  # noqa: F403
