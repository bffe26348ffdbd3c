"""Threat intelligence (DESIGN.md section 6): the correlation index over observables
and feed events, and (exchange_models) what STIX, TAXII and MISP interchange keep."""

from certhub.intel.exchange_models import *  # noqa: F403
