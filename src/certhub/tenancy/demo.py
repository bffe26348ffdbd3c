"""The demo data set: the reference constituency of DESIGN.md section 2 (the National
CERT; Government, CII and sectoral CERTs; provincial CERTs under the Government CERT;
some fifty fictitious organizations) and a login for every role.

The data below is the only copy of it. It is turned into a constituency document in the
import layout (docs/constituency.md) and written by the import code, then the users and
their memberships through the account and tenancy services, so running the demo twice
changes nothing the second time.

Every address, network, AS number and domain comes from ranges set aside for
documentation and testing, so the demo can never route a real network to an
organization: IPv4 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 (RFC 5737) and
100.64.0.0/10 (RFC 6598, never routed on the Internet), IPv6 2001:db8::/32 (RFC 3849),
AS 64496-64511 and 65536-65551 (RFC 5398), domains under .example (RFC 2606).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils.translation import gettext_noop

from certhub.accounts.services import upsert_user
from certhub.tenancy.choices import (
    AssetKind,
    CIIGradeMethod,
    NotificationKind,
    OrgRole,
    TeamKind,
    TeamRole,
)
from certhub.tenancy.constituency import ImportReport, import_document
from certhub.tenancy.models import CIIDesignation, CIIGradeChange, Organization, Team
from certhub.tenancy.services import install_default_cii_criteria, set_membership
from certhub.tenancy.signals import demo_built

DEFAULT_PASSWORD = "demo-password"
USER_DOMAIN = "certhub.example"
CERT_DOMAIN = "cert.example"

# Sector names are marked for translation so that the interface can show them in the
# reader's language (gettext of the stored English name).
SECTORS: tuple[tuple[str, str], ...] = (
    ("government", gettext_noop("Government")),
    ("defence", gettext_noop("Defence")),
    ("telecom", gettext_noop("Telecommunications")),
    ("banking", gettext_noop("Banking")),
    ("finance", gettext_noop("Finance")),
    ("power", gettext_noop("Power and energy")),
    ("health", gettext_noop("Health")),
    ("transport", gettext_noop("Transport")),
    ("education", gettext_noop("Education and academia")),
    ("commercial", gettext_noop("Commercial")),
)

# slug, name, kind, parent: the reporting line.
TEAMS: tuple[tuple[str, str, str, str | None], ...] = (
    ("national", "National CERT", TeamKind.NATIONAL, None),
    ("government", "Government CERT", TeamKind.GOVERNMENT, "national"),
    ("cii", "CII CERT", TeamKind.CII, "national"),
    ("banking", "Banking CERT", TeamKind.SECTORAL, "national"),
    ("telecom", "Telecom CERT", TeamKind.SECTORAL, "national"),
    ("power", "Power CERT", TeamKind.SECTORAL, "national"),
    ("finance", "Finance CERT", TeamKind.SECTORAL, "national"),
    ("defence", "Defence CERT", TeamKind.SECTORAL, "national"),
    ("punjab", "Punjab CERT", TeamKind.PROVINCIAL, "government"),
    ("sindh", "Sindh CERT", TeamKind.PROVINCIAL, "government"),
    ("khyber-pakhtunkhwa", "Khyber Pakhtunkhwa CERT", TeamKind.PROVINCIAL, "government"),
    ("balochistan", "Balochistan CERT", TeamKind.PROVINCIAL, "government"),
)

# The National CERT duty desk publishes an OpenPGP key (a demo key that never expires;
# its secret half was thrown away when it was made).
NATIONAL_DUTY_KEY = """\
-----BEGIN PGP PUBLIC KEY BLOCK-----
Comment: 4EC6 DFDB 5676 3044 05D4  AEC2 9A70 CC2E 2E39 A3AD
Comment: National CERT duty desk <duty@national.cert.example>

xjMEawsJ8BYJKwYBBAHaRw8BAQdA0M7q4Xy1cL8B4pZC/+kJf8hlJWPrdq+eTdZk
yaZak3nCwAsEHxYKAH0FgmsLCfADCwkHCRCacMwuLjmjrUcUAAAAAAAeACBzYWx0
QG5vdGF0aW9ucy5zZXF1b2lhLXBncC5vcmcaV5/TB2UCYI62qe2PhCKlWT06cDbq
X6S4CLmNwgx/rQMVCggCmwECHgkWIQROxt/bVnYwRAXUrsKacMwuLjmjrQAAcf4B
AK/s/PXg3ipVASdnIDLfia4tH+W5so79htgvuWFuts5jAP9lUHBgnng5ASFTD4hn
TO20wuIS6xAN/eOOurExg02+B800TmF0aW9uYWwgQ0VSVCBkdXR5IGRlc2sgPGR1
dHlAbmF0aW9uYWwuY2VydC5leGFtcGxlPsLADgQTFgoAgAWCawsJ8AMLCQcJEJpw
zC4uOaOtRxQAAAAAAB4AIHNhbHRAbm90YXRpb25zLnNlcXVvaWEtcGdwLm9yZ8SV
m+zn/hrNSAFC1Y/1tjngdwrfK7nDKI3QCUjGimeQAxUKCAKZAQKbAQIeCRYhBE7G
39tWdjBEBdSuwppwzC4uOaOtAACHSwD/RJGkey3BUDMJBen50ymFNXAdOO2M0I9B
X3ZMu72y2K4BAOYdqxGPO2ckgM5BM1avWjhC/k1dVgUuq8XgETjWp0cOzjMEawsJ
8BYJKwYBBAHaRw8BAQdAzfc8dOUp4NXmaomqizi1G6PzhTbx6FWBcvcT6Ear8znC
wL8EGBYKATEFgmsLCfAJEJpwzC4uOaOtRxQAAAAAAB4AIHNhbHRAbm90YXRpb25z
LnNlcXVvaWEtcGdwLm9yZ8A30ScLt+oydcNap25PKK3k4GLfDrU/QQCR5xwOCZdc
ApsCvqAEGRYKAG8FgmsLCfAJEDny2D7q5xWjRxQAAAAAAB4AIHNhbHRAbm90YXRp
b25zLnNlcXVvaWEtcGdwLm9yZz+KmBMJo4BUE870KUzFi7GdC0/5BqILlxEQdRTW
BRN/FiEEElPjPv+fIB6H72jHOfLYPurnFaMAAALfAPsHDt/9hMn8LjL8dL8kIJv6
6YXmta26pRXQO+pFjdhKfAD/VGp4E4BWSRrxvlvcA3AMseGgreF7SEOaCPX5BgH1
8A8WIQROxt/bVnYwRAXUrsKacMwuLjmjrQAAkNoA/0wxQ3K62OMaHxTA3MYr5RDP
V5YC7TywqoWzDtHPXSqGAP9571wAKIGgbg2NfOj9Ru5h2/Aj9BH2HFxbBe3jH3ln
C844BGsLCfASCisGAQQBl1UBBQEBB0BakIJC3tjapx6dbsJrPE1Np00vh6fh8rhA
kGkoMWivTwMBCAfCwAAEGBYKAHIFgmsLCfAJEJpwzC4uOaOtRxQAAAAAAB4AIHNh
bHRAbm90YXRpb25zLnNlcXVvaWEtcGdwLm9yZ2m5yRtzHS3+2ookheDt87OxEUBs
T9rbM5X6c37d34jJApsMFiEETsbf21Z2MEQF1K7CmnDMLi45o60AAIylAQD/kH1S
dsxKUn7hmGKYgie2GwKWgNcpoUh29Dw8gte0twD/ae2S/V1tgAXU2GXDQ6zqrhsV
/F/RSXRJ5O2sACPJcgQ=
=SZ/a
-----END PGP PUBLIC KEY BLOCK-----"""


@dataclass(frozen=True)
class DemoOrganization:
    """One constituent: its ``domain`` gives its website, its domain asset and its
    mailboxes (soc@ and abuse@); ``cii`` is (grade, review date) for a CII organization."""

    slug: str
    name: str
    sector: str
    team: str
    domain: str
    province: str = ""
    cii: tuple[str, str] | None = None
    assets: tuple[str, ...] = ()


# Banks to the Banking CERT, telcos to the Telecom CERT, ministries to the Government
# CERT, provincial departments to their provincial CERT, grid and generation to the
# Power CERT, designated CII to the CII CERT; the rest to the National CERT directly.
ORGANIZATIONS: tuple[DemoOrganization, ...] = (
    DemoOrganization(
        "example-interior-ministry",
        "Example Ministry of Interior",
        "government",
        "government",
        "interior.gov.example",
        assets=(
            "192.0.2.0/28",
            "2001:db8:1::/48",
            "AS64496",
        ),
    ),
    DemoOrganization(
        "example-finance-ministry",
        "Example Ministry of Finance",
        "government",
        "government",
        "finance.gov.example",
        assets=(
            "192.0.2.16/28",
            "2001:db8:2::/48",
        ),
    ),
    DemoOrganization(
        "example-it-ministry",
        "Example Ministry of IT and Telecommunication",
        "government",
        "government",
        "moitt.gov.example",
        assets=(
            "192.0.2.32/28",
            "2001:db8:3::/48",
        ),
    ),
    DemoOrganization(
        "example-foreign-office",
        "Example Foreign Office",
        "government",
        "government",
        "foreign.gov.example",
        assets=(
            "192.0.2.48/28",
            "2001:db8:4::/48",
        ),
    ),
    DemoOrganization(
        "example-revenue-board",
        "Example Federal Revenue Board",
        "government",
        "government",
        "revenue.gov.example",
        assets=(
            "192.0.2.64/28",
            "2001:db8:5::/48",
        ),
    ),
    DemoOrganization(
        "punjab-example-it-board",
        "Punjab Example IT Board",
        "government",
        "punjab",
        "itboard.punjab.gov.example",
        province="Punjab",
        assets=(
            "192.0.2.80/28",
            "2001:db8:6::/48",
        ),
    ),
    DemoOrganization(
        "punjab-example-revenue-authority",
        "Punjab Example Revenue Authority",
        "government",
        "punjab",
        "revenue.punjab.gov.example",
        province="Punjab",
        assets=(
            "192.0.2.96/28",
            "2001:db8:7::/48",
        ),
    ),
    DemoOrganization(
        "sindh-example-it-department",
        "Sindh Example IT Department",
        "government",
        "sindh",
        "it.sindh.gov.example",
        province="Sindh",
        assets=(
            "192.0.2.112/28",
            "2001:db8:8::/48",
        ),
    ),
    DemoOrganization(
        "sindh-example-excise-department",
        "Sindh Example Excise and Taxation Department",
        "government",
        "sindh",
        "excise.sindh.gov.example",
        province="Sindh",
        assets=(
            "192.0.2.128/28",
            "2001:db8:9::/48",
        ),
    ),
    DemoOrganization(
        "kp-example-it-board",
        "Khyber Pakhtunkhwa Example IT Board",
        "government",
        "khyber-pakhtunkhwa",
        "itboard.kp.gov.example",
        province="Khyber Pakhtunkhwa",
        assets=(
            "192.0.2.144/28",
            "2001:db8:a::/48",
        ),
    ),
    DemoOrganization(
        "balochistan-example-it-department",
        "Balochistan Example IT Department",
        "government",
        "balochistan",
        "it.balochistan.gov.example",
        province="Balochistan",
        assets=(
            "192.0.2.160/28",
            "2001:db8:b::/48",
        ),
    ),
    DemoOrganization(
        "example-defence-production",
        "Example Defence Production Division",
        "defence",
        "defence",
        "defprod.gov.example",
        assets=(
            "192.0.2.176/28",
            "2001:db8:c::/48",
            "AS64497",
        ),
    ),
    DemoOrganization(
        "indus-demo-shipyard",
        "Indus Demo Shipyard and Engineering Works",
        "defence",
        "defence",
        "indusshipyard.example",
        province="Sindh",
        assets=(
            "192.0.2.192/28",
            "2001:db8:d::/48",
        ),
    ),
    DemoOrganization(
        "example-aeronautical-complex",
        "Example Aeronautical Complex",
        "defence",
        "defence",
        "aerocomplex.example",
        province="Punjab",
        assets=(
            "192.0.2.208/28",
            "2001:db8:e::/48",
        ),
    ),
    DemoOrganization(
        "indus-demo-telecom",
        "Indus Demo Telecom",
        "telecom",
        "telecom",
        "industelecom.example",
        assets=(
            "192.0.2.224/28",
            "100.64.0.0/24",
            "100.64.1.0/24",
            "2001:db8:f::/48",
            "AS64498",
        ),
    ),
    DemoOrganization(
        "example-mobile-networks",
        "Example Mobile Networks",
        "telecom",
        "telecom",
        "examplemobile.example",
        assets=(
            "192.0.2.240/28",
            "100.64.2.0/24",
            "100.64.3.0/24",
            "2001:db8:10::/48",
            "AS64499",
        ),
    ),
    DemoOrganization(
        "karakoram-demo-broadband",
        "Karakoram Demo Broadband",
        "telecom",
        "telecom",
        "karakorambroadband.example",
        assets=(
            "198.51.100.0/28",
            "100.64.4.0/24",
            "2001:db8:11::/48",
            "AS64500",
        ),
    ),
    DemoOrganization(
        "example-national-telecom",
        "Example National Telecommunication Corporation",
        "telecom",
        "cii",
        "ntc.example",
        cii=("1", "2027-06-30"),
        assets=(
            "198.51.100.16/28",
            "100.64.5.0/24",
            "100.64.6.0/24",
            "2001:db8:12::/48",
            "AS64501",
        ),
    ),
    DemoOrganization(
        "example-internet-exchange",
        "Example Internet Exchange",
        "telecom",
        "cii",
        "ixp.example",
        cii=("1", "2027-03-31"),
        assets=(
            "198.51.100.32/28",
            "2001:db8:13::/48",
            "AS64502",
        ),
    ),
    DemoOrganization(
        "example-national-bank",
        "Example National Bank",
        "banking",
        "banking",
        "nationalbank.example",
        assets=(
            "198.51.100.48/28",
            "2001:db8:14::/48",
            "AS64503",
        ),
    ),
    DemoOrganization(
        "example-central-bank",
        "Example Central Bank",
        "banking",
        "cii",
        "centralbank.example",
        cii=("1", "2027-01-31"),
        assets=(
            "198.51.100.64/28",
            "2001:db8:15::/48",
            "AS64504",
        ),
    ),
    DemoOrganization(
        "indus-demo-bank",
        "Indus Demo Bank",
        "banking",
        "banking",
        "indusbank.example",
        assets=(
            "198.51.100.80/28",
            "2001:db8:16::/48",
            "AS64505",
        ),
    ),
    DemoOrganization(
        "ravi-example-bank",
        "Ravi Example Bank",
        "banking",
        "banking",
        "ravibank.example",
        assets=(
            "198.51.100.96/28",
            "2001:db8:17::/48",
            "AS64506",
        ),
    ),
    DemoOrganization(
        "example-microfinance-bank",
        "Example Microfinance Bank",
        "banking",
        "banking",
        "microfinance.example",
        assets=(
            "198.51.100.112/28",
            "2001:db8:18::/48",
        ),
    ),
    DemoOrganization(
        "sindh-example-bank",
        "Sindh Example Bank",
        "banking",
        "banking",
        "sindhbank.example",
        province="Sindh",
        assets=(
            "198.51.100.128/28",
            "2001:db8:19::/48",
            "AS64507",
        ),
    ),
    DemoOrganization(
        "example-stock-exchange",
        "Example Stock Exchange",
        "finance",
        "cii",
        "stockexchange.example",
        cii=("2", "2027-09-30"),
        assets=(
            "198.51.100.144/28",
            "2001:db8:1a::/48",
            "AS64508",
        ),
    ),
    DemoOrganization(
        "example-securities-commission",
        "Example Securities and Exchange Commission",
        "finance",
        "finance",
        "secp.example",
        assets=(
            "198.51.100.160/28",
            "2001:db8:1b::/48",
        ),
    ),
    DemoOrganization(
        "example-state-insurance",
        "Example State Life Insurance Corporation",
        "finance",
        "finance",
        "stateinsurance.example",
        assets=(
            "198.51.100.176/28",
            "2001:db8:1c::/48",
            "AS64509",
        ),
    ),
    DemoOrganization(
        "example-payments-switch",
        "Example Payments Switch",
        "finance",
        "cii",
        "paymentswitch.example",
        cii=("2", "2026-10-31"),
        assets=(
            "198.51.100.192/28",
            "2001:db8:1d::/48",
            "AS64510",
        ),
    ),
    DemoOrganization(
        "example-national-grid",
        "Example National Grid Company",
        "power",
        "cii",
        "nationalgrid.example",
        cii=("1", "2027-05-31"),
        assets=(
            "198.51.100.208/28",
            "2001:db8:1e::/48",
            "AS64511",
        ),
    ),
    DemoOrganization(
        "example-power-generation",
        "Example Power Generation Company",
        "power",
        "power",
        "powergen.example",
        assets=(
            "198.51.100.224/28",
            "2001:db8:1f::/48",
            "AS65536",
        ),
    ),
    DemoOrganization(
        "lahore-demo-electric",
        "Lahore Demo Electric Supply Company",
        "power",
        "power",
        "lahore-electric.example",
        province="Punjab",
        assets=(
            "198.51.100.240/28",
            "2001:db8:20::/48",
            "AS65537",
        ),
    ),
    DemoOrganization(
        "karachi-demo-electric",
        "Karachi Demo Electric",
        "power",
        "power",
        "karachi-electric.example",
        province="Sindh",
        assets=(
            "203.0.113.0/28",
            "2001:db8:21::/48",
            "AS65538",
        ),
    ),
    DemoOrganization(
        "peshawar-demo-electric",
        "Peshawar Demo Electric Supply Company",
        "power",
        "power",
        "peshawar-electric.example",
        province="Khyber Pakhtunkhwa",
        assets=(
            "203.0.113.16/28",
            "2001:db8:22::/48",
            "AS65539",
        ),
    ),
    DemoOrganization(
        "quetta-demo-electric",
        "Quetta Demo Electric Supply Company",
        "power",
        "power",
        "quetta-electric.example",
        province="Balochistan",
        assets=(
            "203.0.113.32/28",
            "2001:db8:23::/48",
            "AS65540",
        ),
    ),
    DemoOrganization(
        "example-gas-pipelines",
        "Example Gas Pipelines",
        "power",
        "power",
        "gaspipelines.example",
        assets=(
            "203.0.113.48/28",
            "2001:db8:24::/48",
            "AS65541",
        ),
    ),
    DemoOrganization(
        "punjab-example-health-department",
        "Punjab Example Health Department",
        "health",
        "punjab",
        "health.punjab.gov.example",
        province="Punjab",
        assets=(
            "203.0.113.64/28",
            "2001:db8:25::/48",
        ),
    ),
    DemoOrganization(
        "sindh-example-health-department",
        "Sindh Example Health Department",
        "health",
        "sindh",
        "health.sindh.gov.example",
        province="Sindh",
        assets=(
            "203.0.113.80/28",
            "2001:db8:26::/48",
        ),
    ),
    DemoOrganization(
        "example-federal-hospital",
        "Example Federal Government Hospital",
        "health",
        "government",
        "fgh.gov.example",
        assets=(
            "203.0.113.96/28",
            "2001:db8:27::/48",
        ),
    ),
    DemoOrganization(
        "lahore-example-general-hospital",
        "Lahore Example General Hospital",
        "health",
        "punjab",
        "lahoregeneral.example",
        province="Punjab",
        assets=(
            "203.0.113.112/28",
            "2001:db8:28::/48",
        ),
    ),
    DemoOrganization(
        "karachi-example-childrens-hospital",
        "Karachi Example Children's Hospital",
        "health",
        "sindh",
        "childrens-karachi.example",
        province="Sindh",
        assets=(
            "203.0.113.128/28",
            "2001:db8:29::/48",
        ),
    ),
    DemoOrganization(
        "example-drug-authority",
        "Example Drug Regulatory Authority",
        "health",
        "government",
        "dra.gov.example",
        assets=(
            "203.0.113.144/28",
            "2001:db8:2a::/48",
        ),
    ),
    DemoOrganization(
        "example-national-airline",
        "Example National Airline",
        "transport",
        "national",
        "airline.example",
        assets=(
            "203.0.113.160/28",
            "2001:db8:2b::/48",
            "AS65542",
        ),
    ),
    DemoOrganization(
        "example-airports-authority",
        "Example Airports Authority",
        "transport",
        "cii",
        "airports.example",
        cii=("2", "2027-08-31"),
        assets=(
            "203.0.113.176/28",
            "2001:db8:2c::/48",
            "AS65543",
        ),
    ),
    DemoOrganization(
        "karachi-demo-port-trust",
        "Karachi Demo Port Trust",
        "transport",
        "cii",
        "karachiport.example",
        province="Sindh",
        cii=("3", "2027-02-28"),
        assets=(
            "203.0.113.192/28",
            "2001:db8:2d::/48",
            "AS65544",
        ),
    ),
    DemoOrganization(
        "example-railways",
        "Example Railways",
        "transport",
        "government",
        "railways.gov.example",
        assets=(
            "203.0.113.208/28",
            "2001:db8:2e::/48",
        ),
    ),
    DemoOrganization(
        "example-university-of-engineering",
        "Example University of Engineering and Technology",
        "education",
        "punjab",
        "uet.example",
        province="Punjab",
        assets=(
            "203.0.113.224/28",
            "100.64.7.0/24",
            "2001:db8:2f::/48",
            "AS65545",
        ),
    ),
    DemoOrganization(
        "sindh-demo-university",
        "Sindh Demo University",
        "education",
        "sindh",
        "sindhuniversity.example",
        province="Sindh",
        assets=(
            "203.0.113.240/28",
            "100.64.8.0/24",
            "2001:db8:30::/48",
        ),
    ),
    DemoOrganization(
        "peshawar-example-university",
        "Peshawar Example University",
        "education",
        "khyber-pakhtunkhwa",
        "peshawaruniversity.example",
        province="Khyber Pakhtunkhwa",
        assets=(
            "100.64.9.0/24",
            "100.64.10.0/24",
            "2001:db8:31::/48",
        ),
    ),
    DemoOrganization(
        "example-research-network",
        "Example Research and Education Network",
        "education",
        "national",
        "ren.example",
        assets=(
            "100.64.11.0/24",
            "100.64.12.0/24",
            "100.64.13.0/24",
            "2001:db8:32::/48",
            "AS65546",
        ),
    ),
    DemoOrganization(
        "example-higher-education-commission",
        "Example Higher Education Commission",
        "education",
        "government",
        "hec.gov.example",
        assets=(
            "100.64.14.0/24",
            "2001:db8:33::/48",
        ),
    ),
    DemoOrganization(
        "example-software-house",
        "Example Software House",
        "commercial",
        "national",
        "softwarehouse.example",
        assets=(
            "100.64.15.0/24",
            "2001:db8:34::/48",
        ),
    ),
    DemoOrganization(
        "example-online-bazaar",
        "Example Online Bazaar",
        "commercial",
        "national",
        "onlinebazaar.example",
        assets=(
            "100.64.16.0/24",
            "2001:db8:35::/48",
        ),
    ),
    DemoOrganization(
        "example-media-group",
        "Example Media Group",
        "commercial",
        "national",
        "mediagroup.example",
        assets=(
            "100.64.17.0/24",
            "2001:db8:36::/48",
        ),
    ),
)

# username, team, role, is_council, is_superuser; plus <org-slug>.reporter for every
# organization above.
STAFF: tuple[tuple[str, str | None, str | None, bool, bool], ...] = (
    ("admin", None, None, False, True),
    ("national.coordinator", "national", TeamRole.COORDINATOR, False, False),
    ("national.analyst", "national", TeamRole.ANALYST, False, False),
    ("government.analyst", "government", TeamRole.ANALYST, False, False),
    ("banking.coordinator", "banking", TeamRole.COORDINATOR, False, False),
    ("banking.analyst", "banking", TeamRole.ANALYST, False, False),
    ("telecom.analyst", "telecom", TeamRole.ANALYST, False, False),
    ("punjab.analyst", "punjab", TeamRole.ANALYST, False, False),
    ("sindh.analyst", "sindh", TeamRole.ANALYST, False, False),
    ("council.member", None, None, True, False),
    ("council.chair", None, None, True, False),
    ("council.secretary", None, None, True, False),
)


def _asset(value: str) -> dict[str, str]:
    kind = AssetKind.ASN if value.startswith("AS") else AssetKind.CIDR
    return {"kind": kind, "value": value}


def demo_document() -> dict[str, Any]:
    """The demo constituency in the import layout."""
    everything = list(NotificationKind.values)
    teams = []
    for slug, name, kind, parent in TEAMS:
        duty: dict[str, Any] = {
            "email": f"duty@{slug}.{CERT_DOMAIN}",
            "name": f"{name} duty desk",
            "role": "Duty officer",
            "notifications": everything,
        }
        if slug == "national":
            duty["pgp_key"] = NATIONAL_DUTY_KEY
        teams.append(
            {
                "slug": slug,
                "name": name,
                "kind": kind,
                "parent": parent,
                "email": f"{slug}@{CERT_DOMAIN}",
                "contacts": [duty],
            }
        )
    organizations = []
    for org in ORGANIZATIONS:
        grade, review = org.cii or ("", None)
        organizations.append(
            {
                "slug": org.slug,
                "name": org.name,
                "sector": org.sector,
                "responsible_team": org.team,
                "province": org.province,
                "is_cii": org.cii is not None,
                "cii_grade": grade,
                "cii_review_date": review,
                "website": f"https://www.{org.domain}/",
                "assets": [
                    *(_asset(value) for value in org.assets),
                    {"kind": AssetKind.DOMAIN, "value": org.domain},
                ],
                "contacts": [
                    {
                        "email": f"soc@{org.domain}",
                        "name": "Security operations centre",
                        "role": "Security officer",
                        "notifications": [
                            NotificationKind.INCIDENTS,
                            NotificationKind.ADVISORIES,
                            NotificationKind.ESCALATIONS,
                        ],
                    },
                    {
                        "email": f"abuse@{org.domain}",
                        "name": "Abuse desk",
                        "role": "Abuse contact",
                        "notifications": [NotificationKind.FEED_DIGESTS],
                    },
                ],
            }
        )
    return {
        "sectors": [{"slug": slug, "name": name} for slug, name in SECTORS],
        "teams": teams,
        "organizations": organizations,
    }


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    seat: str  # the team or organization, or the global role


@dataclass
class DemoResult:
    constituency: ImportReport
    users: dict[str, int] = field(default_factory=lambda: {"created": 0, "updated": 0})
    memberships: int = 0
    logins: list[DemoLogin] = field(default_factory=list)
    seconds: float = 0.0

    def changed(self) -> int:
        return self.constituency.changed() + sum(self.users.values()) + self.memberships


def demo_logins() -> list[DemoLogin]:
    logins = []
    for username, team, role, is_council, is_superuser in STAFF:
        if is_superuser:
            logins.append(DemoLogin(username, "admin", "platform administrator"))
        elif is_council:
            logins.append(DemoLogin(username, "council", "CERT Council"))
        else:
            logins.append(DemoLogin(username, str(role), f"team {team}"))
    logins += [
        DemoLogin(f"{org.slug}.{OrgRole.REPORTER}", OrgRole.REPORTER, f"organization {org.slug}")
        for org in ORGANIZATIONS
    ]
    return logins


@transaction.atomic
def build_demo(
    *, password: str = DEFAULT_PASSWORD, reset_passwords: bool = False, actor: Any = None
) -> DemoResult:
    """Create or bring up to date the demo constituency and logins. Users get
    ``password`` when they are created (existing ones keep theirs unless
    ``reset_passwords``)."""
    started = time.perf_counter()
    result = DemoResult(constituency=import_document(demo_document(), actor=actor))
    logins = demo_logins()
    existing = set(
        get_user_model()
        .objects.filter(username__in=[login.username for login in logins])
        .values_list("username", flat=True)
    )
    # One hash for every demo user, and only if one is needed: Argon2 is slow on purpose.
    needs_hash = reset_passwords or len(existing) < len(logins)
    password_hash = make_password(password) if needs_hash else None
    teams = {team.slug: team for team in Team.objects.filter(slug__in=[t[0] for t in TEAMS])}
    orgs = {
        org.slug: org
        for org in Organization.objects.filter(slug__in=[o.slug for o in ORGANIZATIONS])
    }
    staff = {row[0]: row[1:] for row in STAFF}
    for login in logins:
        team_slug, role, is_council, is_superuser = staff.get(
            login.username, (None, OrgRole.REPORTER, False, False)
        )
        first, _dot, last = login.username.partition(".")
        user, changed = upsert_user(
            actor=actor,
            username=login.username,
            email=f"{login.username}@{USER_DOMAIN}",
            first_name=first.replace("-", " ").title(),
            last_name=last.title(),
            password_hash=password_hash,
            is_council=is_council,
            is_superuser=is_superuser,
            reset_password=reset_passwords,
        )
        if changed:
            result.users["updated" if login.username in existing else "created"] += 1
        if role is None:
            continue
        seat: dict[str, Any] = (
            {"team": teams[str(team_slug)]}
            if login.username in staff
            else {"organization": orgs[login.username.removesuffix(f".{OrgRole.REPORTER}")]}
        )
        _membership, changed = set_membership(actor=actor, user=user, role=role, **seat)
        result.memberships += int(changed)
    result.logins = logins
    admin = get_user_model().objects.get(username="admin")
    install_default_cii_criteria(actor=admin)
    _demo_cii_history(admin)
    demo_built.send(sender=build_demo, actor=admin)
    result.seconds = time.perf_counter() - started
    return result


# Which ministry designated the demo's CII operators, by sector.
DESIGNATING_MINISTRY = {
    "power": "Ministry of Energy",
    "telecom": "Ministry of Information Technology and Telecommunication",
    "banking": "Ministry of Finance (on the advice of the State Bank)",
    "finance": "Ministry of Finance",
    "defence": "Ministry of Defence",
    "government": "Ministry of Interior",
}


def _demo_cii_history(admin: Any) -> None:
    """A designation decision and a grade history for each demo CII organization, made
    once: designated a year before its review date, graded a grade lower at first, and
    (for every other one) regraded to its present grade half a year later."""
    designated = set(CIIDesignation.objects.values_list("organization_id", flat=True))
    orgs = Organization.objects.filter(
        slug__in=[o.slug for o in ORGANIZATIONS if o.cii], is_cii=True
    ).select_related("sector")
    for number, org in enumerate(orgs.order_by("slug"), start=1):
        if org.pk in designated or org.cii_review_date is None:
            continue
        on = org.cii_review_date - dt.timedelta(days=365)
        authority = DESIGNATING_MINISTRY.get(org.sector.slug, "Ministry of Information Technology")
        CIIDesignation.objects.create(
            organization=org,
            authority=authority,
            designated_on=on,
            decision_reference=f"CII-{on.year}-{number:03d}",
            recorded_by=admin,
        )
        # The import recorded the grade as of now; the demo tells the longer story.
        CIIGradeChange.objects.filter(organization=org, method=CIIGradeMethod.IMPORT).delete()
        regraded = number % 2 == 0 and org.cii_grade != "3"
        first = str(int(org.cii_grade) + 1) if regraded else org.cii_grade
        at = dt.datetime.combine(on, dt.time(9), tzinfo=dt.UTC)
        CIIGradeChange.objects.create(
            organization=org,
            changed_at=at,
            changed_by=admin,
            old_grade="",
            new_grade=first,
            method=CIIGradeMethod.DESIGNATION,
            reason=f"Designated by {authority}.",
        )
        if regraded:
            CIIGradeChange.objects.create(
                organization=org,
                changed_at=at + dt.timedelta(days=182),
                changed_by=admin,
                old_grade=first,
                new_grade=org.cii_grade,
                method=CIIGradeMethod.SET,
                reason="Raised after the sector-wide outage exercise showed no fallback.",
            )
