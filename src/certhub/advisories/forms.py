"""Forms of the advisory pages. The authoring form turns its text areas (products, CVEs,
references: one per line, in the format the page explains) into the lists the service
takes; the service checks the content (CVE ids, CVSS vectors, versions) and its message
is shown on the form when it refuses."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from certhub.advisories.choices import (
    AckState,
    AudienceKind,
    Exploitation,
    RemediationCategory,
    Severity,
)
from certhub.advisories.models import Advisory
from certhub.tenancy.choices import TeamKind
from certhub.tenancy.models import Team
from certhub.tenancy.selectors import (
    organizations_visible_to,
    sectors_visible_to,
    teams_addressable_by,
)
from certhub.tenancy.tlp import TLP, TLP_HELP

PRODUCTS_HELP = _(
    "One product per line: vendor; product; affected versions; fixed version. The last two "
    "may be left out. Example: Example Software; Example HTTP Server; "
    "vers:generic/>=2.4.0|<2.4.58; 2.4.58"
)
CVES_HELP = _(
    "One CVE per line: the CVE id, then optionally its CVSS v3.x and v4.0 vectors and a "
    "title, separated by semicolons. Example: CVE-2026-12345; "
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H; Heap overflow in request parsing"
)
REFERENCES_HELP = _(
    "One link per line: the http(s) address, then a space and what it is. Example: "
    "https://vendor.example/ESA-2026-01 Vendor advisory"
)
MAX_LINES = 200


def _lines(text: str) -> list[tuple[int, str]]:
    rows = [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    if len(rows) > MAX_LINES:
        raise forms.ValidationError(gettext("At most %(n)d lines, please.") % {"n": MAX_LINES})
    return rows


def parse_products(text: str) -> list[dict[str, str]]:
    products = []
    for number, line in _lines(text):
        parts = [part.strip() for part in line.split(";")]
        if len(parts) < 2 or len(parts) > 4 or not parts[0] or not parts[1]:
            raise forms.ValidationError(
                gettext(
                    "Line %(n)d: write vendor; product; affected versions; fixed version "
                    "(vendor and product are needed)."
                )
                % {"n": number}
            )
        parts += [""] * (4 - len(parts))
        products.append(
            {
                "vendor": parts[0],
                "product": parts[1],
                "versions": parts[2],
                "fixed_version": parts[3],
            }
        )
    return products


def format_products(products: list[dict[str, Any]]) -> str:
    lines = []
    for p in products:
        parts = [p["vendor"], p["product"], p["versions"], p["fixed_version"]]
        while len(parts) > 2 and not parts[-1]:
            parts.pop()  # trailing empty fields are left out, as the help text allows
        lines.append("; ".join(parts))
    return "\n".join(lines)


def parse_cves(text: str) -> list[dict[str, str]]:
    cves = []
    for number, line in _lines(text):
        parts = [part.strip() for part in line.split(";") if part.strip()]
        row = {"cve": parts[0].upper(), "cvss_v3_vector": "", "cvss_v4_vector": "", "title": ""}
        title = []
        for part in parts[1:]:
            if part.upper().startswith("CVSS:3"):
                row["cvss_v3_vector"] = part
            elif part.upper().startswith("CVSS:4"):
                row["cvss_v4_vector"] = part
            elif part.upper().startswith("CVSS:"):
                raise forms.ValidationError(
                    gettext("Line %(n)d: only CVSS v3.x and v4.0 vectors are known.")
                    % {"n": number}
                )
            else:
                title.append(part)
        row["title"] = "; ".join(title)
        if not row["cve"].startswith("CVE-"):
            raise forms.ValidationError(
                gettext("Line %(n)d: start with the CVE id (CVE-YYYY-NNNN).") % {"n": number}
            )
        cves.append(row)
    return cves


def format_cves(cves: list[dict[str, Any]]) -> str:
    lines = []
    for cve in cves:
        parts = [cve["cve"]]
        for name in ("cvss_v3", "cvss_v4"):
            if cve.get(name):
                parts.append(cve[name]["vector"])
        if cve.get("title"):
            parts.append(cve["title"])
        lines.append("; ".join(parts))
    return "\n".join(lines)


def parse_references(text: str) -> list[dict[str, str]]:
    references = []
    for number, line in _lines(text):
        url, _space, summary = line.partition(" ")
        if not url.lower().startswith(("http://", "https://")):
            raise forms.ValidationError(
                gettext("Line %(n)d: start with an http(s) address.") % {"n": number}
            )
        references.append({"url": url, "summary": summary.strip()})
    return references


def format_references(references: list[dict[str, str]]) -> str:
    return "\n".join(f"{r['url']} {r.get('summary', '')}".rstrip() for r in references)


class SlugMultipleChoiceField(forms.ModelMultipleChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(queryset=Team.objects.none(), to_field_name="slug", **kwargs)


class AdvisoryForm(forms.Form):
    """A draft advisory (or the next revision of a published one)."""

    title = forms.CharField(label=_("Title"), max_length=300)
    summary = forms.CharField(label=_("Summary"), widget=forms.Textarea(attrs={"rows": 3}))
    details = forms.CharField(
        label=_("Details"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Markdown: headings, lists, code, tables and links."),
    )
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices)
    exploitation = forms.ChoiceField(label=_("Exploitation"), choices=Exploitation.choices)
    products = forms.CharField(
        label=_("Affected products"),
        widget=forms.Textarea(attrs={"rows": 4, "class": "mono"}),
        help_text=PRODUCTS_HELP,
        required=False,
    )
    cves = forms.CharField(
        label=_("CVEs"),
        widget=forms.Textarea(attrs={"rows": 3, "class": "mono"}),
        help_text=CVES_HELP,
        required=False,
    )
    remediation_category = forms.ChoiceField(
        label=_("Remediation"), choices=RemediationCategory.choices
    )
    remediation = forms.CharField(
        label=_("What to do"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    workarounds = forms.CharField(
        label=_("Workarounds"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    references = forms.CharField(
        label=_("References"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "mono"}),
        help_text=REFERENCES_HELP,
    )
    tlp = forms.ChoiceField(label="TLP", choices=TLP.choices, initial=TLP.AMBER, help_text=TLP_HELP)
    audience_kind = forms.ChoiceField(
        label=_("Audience"),
        choices=AudienceKind.choices,
        widget=forms.RadioSelect,
        initial=AudienceKind.EVERYONE,
    )
    audience_sectors = SlugMultipleChoiceField(
        label=_("Sectors"), required=False, widget=forms.CheckboxSelectMultiple
    )
    audience_team_kinds = forms.MultipleChoiceField(
        label=_("Kinds of CERT"),
        required=False,
        choices=TeamKind.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    audience_organizations = SlugMultipleChoiceField(
        label=_("Organizations"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("Hold Ctrl (or Cmd) to choose several."),
    )
    red_recipient_teams = SlugMultipleChoiceField(
        label=_("TLP:RED recipients: CERTs"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
    )
    red_recipient_users = forms.CharField(
        label=_("TLP:RED recipients: people"),
        required=False,
        max_length=4000,
        help_text=_("Usernames, separated by commas."),
    )
    ack_within_hours = forms.IntegerField(
        label=_("Acknowledge within (hours)"),
        required=False,
        min_value=1,
        max_value=24 * 365,
        help_text=_(
            "Organizations that have not acknowledged it by then are reminded once. Empty: "
            "48 hours for a critical advisory, no deadline otherwise."
        ),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        fields["audience_sectors"].queryset = sectors_visible_to(user).order_by("name")
        fields["audience_organizations"].queryset = organizations_visible_to(user).order_by("name")
        fields["red_recipient_teams"].queryset = teams_addressable_by(user)

    def clean_products(self) -> list[dict[str, str]]:
        return parse_products(self.cleaned_data["products"])

    def clean_cves(self) -> list[dict[str, str]]:
        return parse_cves(self.cleaned_data["cves"])

    def clean_references(self) -> list[dict[str, str]]:
        return parse_references(self.cleaned_data["references"])

    def clean_red_recipient_users(self) -> list[str]:
        text = self.cleaned_data["red_recipient_users"]
        return sorted({name.strip() for name in text.replace("\n", ",").split(",") if name.strip()})

    def service_data(self) -> dict[str, Any]:
        """The cleaned form as the ``data`` of create_advisory / update_advisory."""
        data = dict(self.cleaned_data)
        for name in ("audience_sectors", "audience_organizations", "red_recipient_teams"):
            data[name] = [row.slug for row in data[name]]
        return data

    @staticmethod
    def initial_from(advisory: Advisory, content: dict[str, Any]) -> dict[str, Any]:
        """The form's initial values from an advisory's working copy."""
        return {
            **{
                name: content[name]
                for name in (
                    "title",
                    "summary",
                    "details",
                    "severity",
                    "exploitation",
                    "remediation_category",
                    "remediation",
                    "workarounds",
                    "tlp",
                )
            },
            "products": format_products(content["products"]),
            "cves": format_cves(content["cves"]),
            "references": format_references(content["references"]),
            "audience_kind": content["audience"]["kind"],
            "audience_sectors": content["audience"]["sectors"],
            "audience_team_kinds": content["audience"]["team_kinds"],
            "audience_organizations": content["audience"]["organizations"],
            "red_recipient_teams": [t.slug for t in advisory.red_recipient_teams.all()],
            "red_recipient_users": ", ".join(
                u.get_username() for u in advisory.red_recipient_users.all()
            ),
            "ack_within_hours": advisory.ack_within_hours,
        }


class AcknowledgeForm(forms.Form):
    state = forms.ChoiceField(choices=AckState.choices)
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Needed when you ask for help: say with what."),
    )
    organization = forms.SlugField(required=False, max_length=100, widget=forms.HiddenInput)


class PublishForm(forms.Form):
    change_summary = forms.CharField(
        label=_("What this revision changes"), required=False, max_length=500
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for withdrawal"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class PortalFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Title, CVE, product")}),
    )
    severity = forms.ChoiceField(
        label=_("Severity"), required=False, choices=[("", _("Any")), *Severity.choices]
    )
    year = forms.IntegerField(
        label=_("Year"), required=False, min_value=1990, max_value=2999, widget=forms.Select
    )
    vendor = forms.ChoiceField(label=_("Vendor"), required=False)

    def __init__(self, *args: Any, years: list[int], vendors: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        fields["year"].widget.choices = [("", _("Any")), *((y, str(y)) for y in years)]
        fields["vendor"].choices = [("", _("Any"))] + [(v, v) for v in vendors]

    def filters(self) -> dict[str, Any]:
        if not self.is_bound:
            return {}
        self.is_valid()  # an invalid filter is left out; the valid ones still apply
        return {key: value for key, value in self.cleaned_data.items() if value}
