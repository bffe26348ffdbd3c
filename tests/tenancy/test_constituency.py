"""An administrator moves the constituency in and out of certhub as JSON or CSV: exports
round-trip, imports are idempotent and audited, and a bad file is refused as a whole with
every problem named at its line."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pysequoia
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from certhub.audit.models import AuditEntry
from certhub.tenancy.choices import AssetKind, TeamKind
from certhub.tenancy.models import Asset, Contact, Membership, Organization, Sector, Team
from certhub.tenancy.services import upsert_contact
from tests.factories import World, make_asset, make_org, make_team

pytestmark = pytest.mark.django_db

CSV_HEADER = (
    "record,slug,name,kind,parent,sector,responsible_team,is_cii,cii_grade,cii_review_date,"
    "organization,team,value,email,notifications,pgp_key"
)


def _public_key(uid: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return str(pysequoia.Tsk.generate(uid).extract_certificate())


def _export(fmt: str = "json") -> str:
    out = io.StringIO()
    call_command("constituency", "export", "--format", fmt, stdout=out)
    return out.getvalue()


def _import(path: Path, *args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("constituency", "import", str(path), *args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def _rejected(path: Path, *args: str) -> str:
    with pytest.raises(CommandError) as excinfo:
        _import(path, *args)
    return str(excinfo.value)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _csv(tmp_path: Path, *rows: str) -> Path:
    return _write(tmp_path, "constituency.csv", "\n".join([CSV_HEADER, *rows]) + "\n")


def _empty_the_constituency() -> None:
    Membership.objects.all().delete()
    Organization.objects.all().delete()  # with their assets and contacts
    Contact.objects.all().delete()
    for team in Team.objects.order_by("-depth"):
        team.delete()
    Sector.objects.all().delete()


def _counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count() for model in (Sector, Team, Organization, Asset, Contact, AuditEntry)
    )


@pytest.fixture
def rich_world(world: World) -> World:
    """The reference world plus what an export must carry: contacts with notification
    preferences and an OpenPGP key, team contacts, CII review dates, descriptions."""
    admin = world.users["admin"]
    bank = world.orgs["city-bank"]
    bank.cii_review_date = dt.date(2027, 3, 31)
    bank.description = "Payments, cards;\nand a line break"
    bank.province = "Punjab"
    bank.save()
    upsert_contact(
        actor=admin,
        organization=bank,
        email="soc@citybank.example",
        name="City Bank SOC",
        role="Security officer",
        phone="+92 42 0000000",
        pgp_key=_public_key("City Bank SOC <soc@citybank.example>"),
        notifications=["advisories", "incidents"],
    )
    upsert_contact(
        actor=admin,
        team=world.teams["banking"],
        email="duty@banking.cert.example",
        name="Banking duty desk",
        notifications=["escalations"],
    )
    make_asset(bank, AssetKind.ASN, "AS64501")
    make_asset(bank, AssetKind.DOMAIN, "citybank.example")
    return world


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_an_export_imported_into_an_empty_database_reproduces_the_constituency(
    rich_world: World, tmp_path: Path, fmt: str
) -> None:
    exported = _export(fmt)
    _empty_the_constituency()
    assert Organization.objects.count() == 0

    report = _import(_write(tmp_path, f"constituency.{fmt}", exported))

    assert _export(fmt) == exported
    assert f"organizations         {len(rich_world.orgs)}        0          0" in report
    bank = Organization.objects.get(slug="city-bank")
    assert (bank.is_cii, bank.cii_grade, bank.cii_review_date) == (True, "1", dt.date(2027, 3, 31))
    contact = bank.contacts.get(email="soc@citybank.example")
    assert contact.pgp_fingerprint
    assert contact.notifications == ["incidents", "advisories"]
    punjab = Team.objects.get(slug="punjab")
    assert punjab.parent is not None
    assert punjab.parent.slug == "government"
    assert punjab.path.startswith(Team.objects.get(slug="national").path)


def test_the_json_export_holds_every_field(rich_world: World) -> None:
    document = json.loads(_export())
    bank = next(o for o in document["organizations"] if o["slug"] == "city-bank")
    assert bank["cii_review_date"] == "2027-03-31"
    assert bank["responsible_team"] == "banking"
    assert {"kind": "asn", "value": "AS64501", "description": ""} in bank["assets"]
    soc = next(c for c in bank["contacts"] if c["email"] == "soc@citybank.example")
    assert soc["pgp_key"].startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----")
    banking = next(t for t in document["teams"] if t["slug"] == "banking")
    assert banking["parent"] == "national"
    assert banking["contacts"][0]["notifications"] == ["escalations"]
    # Parents come before their children.
    order = [t["slug"] for t in document["teams"]]
    assert order.index("government") < order.index("punjab")


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_importing_the_same_file_twice_changes_nothing_the_second_time(
    rich_world: World, tmp_path: Path, fmt: str
) -> None:
    path = _write(tmp_path, f"constituency.{fmt}", _export(fmt))
    before = _counts()
    updated_at = Organization.objects.get(slug="city-bank").updated_at

    report = _import(path)

    assert _counts() == before  # no new rows, no new audit entries
    assert Organization.objects.get(slug="city-bank").updated_at == updated_at
    assert f"organizations         0        0          {len(rich_world.orgs)}" in report
    assert "contacts              0        0          2" in report


def test_a_new_constituency_is_written_through_the_services_and_audited_with_the_actor(
    world: World, tmp_path: Path
) -> None:
    path = _csv(
        tmp_path,
        "sector,water,Water,,,,,,,,,,,,,",
        "organization,indus-water,Indus Water Board,,,water,punjab,false,,,,,,,,",
        "asset,,,cidr,,,,,,,indus-water,,203.0.113.128/28,,,",
        "contact,,Water SOC,,,,,,,,indus-water,,,soc@water.example,incidents,",
    )

    _import(path, "--actor", "banking.coordinator")

    org = Organization.objects.get(slug="indus-water")
    assert (org.sector.slug, org.responsible_team.slug) == ("water", "punjab")
    assert org.assets.get().value == "203.0.113.128/28"
    entries = AuditEntry.objects.filter(
        action__in=["sector.create", "organization.create", "asset.create", "contact.create"]
    )
    assert entries.count() == 4
    assert {e.actor_name for e in entries} == {"banking.coordinator"}


def test_without_an_actor_the_audit_log_names_the_system(world: World, tmp_path: Path) -> None:
    _import(_csv(tmp_path, "sector,water,Water,,,,,,,,,,,,,"))
    assert AuditEntry.objects.get(action="sector.create").actor_name == "system"


def test_an_unknown_actor_is_refused(world: World, tmp_path: Path) -> None:
    message = _rejected(_csv(tmp_path, "sector,water,Water,,,,,,,,,,,,,"), "--actor", "ghost")
    assert "There is no user ghost." in message
    assert not Sector.objects.filter(slug="water").exists()


def test_teams_may_come_before_their_parents(db, tmp_path: Path) -> None:
    document = {
        "teams": [
            {"slug": "lahore", "name": "Lahore CERT", "kind": "provincial", "parent": "punjab"},
            {"slug": "punjab", "name": "Punjab CERT", "kind": "provincial", "parent": "gov"},
            {"slug": "gov", "name": "Government CERT", "kind": "government", "parent": "nat"},
            {"slug": "nat", "name": "National CERT", "kind": "national"},
        ]
    }
    _import(_write(tmp_path, "teams.json", json.dumps(document)))
    lahore = Team.objects.get(slug="lahore")
    assert lahore.depth == 3
    assert [t.slug for t in Team.objects.filter(pk__in=lahore.ancestor_ids)] == [
        "nat",
        "gov",
        "punjab",
    ]


def test_swapping_two_teams_in_the_tree_is_written_parents_first(db, tmp_path: Path) -> None:
    national = make_team("national", TeamKind.NATIONAL)
    outer = make_team("outer", parent=national)
    make_team("inner", parent=outer)
    path = _csv(
        tmp_path,
        "team,outer,Outer,sectoral,inner,,,,,,,,,,,",
        "team,inner,Inner,sectoral,national,,,,,,,,,,,",
    )
    _import(path)
    inner, outer = Team.objects.get(slug="inner"), Team.objects.get(slug="outer")
    assert inner.parent == national
    assert outer.parent == inner
    assert outer.path == f"{national.path}{inner.pk}/{outer.pk}/"


def test_only_the_columns_in_the_file_are_changed(rich_world: World, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "names.csv",
        "record,slug,name,sector,responsible_team\n"
        "organization,city-bank,City Bank Limited,banking,banking\n",
    )
    _import(path)
    bank = Organization.objects.get(slug="city-bank")
    assert bank.name == "City Bank Limited"
    # Columns not in the file keep their values.
    assert (bank.is_cii, bank.cii_grade, bank.province) == (True, "1", "Punjab")
    entry = AuditEntry.objects.filter(action="organization.update").latest("id")
    assert entry.changes == {"name": ["City-Bank", "City Bank Limited"]}


def test_a_bad_csv_file_is_refused_whole_with_every_problem_at_its_line(
    world: World, tmp_path: Path
) -> None:
    path = _csv(
        tmp_path,
        "team,a,A,sectoral,b,,,,,,,,,,,",  # line 2
        "team,b,B,sectoral,a,,,,,,,,,,,",
        "team,c,C,sectoral,nowhere,,,,,,,,,,,",
        "organization,new-org,New Org,,,nope,banking,maybe,,2027-02-30,,,,,,",  # line 5
        "organization,new-org,Again,,,banking,banking,,,,,,,,,",
        "asset,,,cidr,,,,,,,national-bank,,192.0.2.1/28,,,",  # line 7
        "asset,,,cidr,,,,,,,telco,,192.0.2.0/24,,,",
        'contact,,SOC,,,,,,,,telco,,,soc@telco.example,incidents,"-----BEGIN PGP PUBLIC KEY '
        'BLOCK-----\nnot a key\n-----END PGP PUBLIC KEY BLOCK-----"',  # lines 9-11
        "contact,,SOC,,,,,,,,telco,,,not-an-address,spam,",  # line 12
        "sector,water,Water,,,,,,,,,,,,,",
    )
    before = _counts()

    message = _rejected(path)

    assert _counts() == before
    assert "nothing was imported" in message
    expected = [
        "line 2: cycle in team parents: a -> b -> a",
        "line 3: cycle in team parents: a -> b -> a",
        'line 4: unknown parent team "nowhere"',
        'line 5: is_cii: bad boolean "maybe" (use true or false)',
        'line 5: cii_review_date: bad date "2027-02-30" (use YYYY-MM-DD)',
        'line 5: unknown sector "nope"',
        'line 6: duplicate slug "new-org" in the file (first at line 5)',
        "line 7: 192.0.2.1/28 has host bits set; did you mean 192.0.2.0/28?",
        'line 8: 192.0.2.0/24 is already registered to another organization, "national-bank"',
        "line 9: pgp_key: The OpenPGP key cannot be read",
        "line 12: notifications: unknown notification kind(s) spam",
        "line 12: email: Enter a valid email address.",
    ]
    for problem in expected:
        assert problem in message
    assert "line 13" not in message  # the good sector row is fine, just not written


def test_skip_bad_writes_the_good_rows_and_reports_the_bad_ones(
    world: World, tmp_path: Path
) -> None:
    path = _csv(
        tmp_path,
        "organization,new-org,New Org,,,nope,banking,,,,,,,,,",  # line 2: bad sector
        "asset,,,domain,,,,,,,new-org,,neworg.example,,,",  # depends on it
        "organization,fine-org,Fine Org,,,banking,banking,true,2,2027-06-30,,,,,,",
        "asset,,,domain,,,,,,,fine-org,,fineorg.example,,,",
        "asset,,,cidr,,,,,,,fine-org,,192.0.2.0/24,,,",  # national-bank's
    )

    output = _import(path, "--skip-bad")

    fine = Organization.objects.get(slug="fine-org")
    assert fine.cii_review_date == dt.date(2027, 6, 30)
    assert [a.value for a in fine.assets.all()] == ["fineorg.example"]
    assert not Organization.objects.filter(slug="new-org").exists()
    assert "3 record(s) not imported" in output
    assert 'line 2: unknown sector "nope"' in output
    assert 'line 3: skipped: organization "new-org" is not imported' in output
    assert (
        'line 6: 192.0.2.0/24 is already registered to another organization, "national-bank"'
        in (output)
    )


def test_a_bad_json_file_names_the_path_and_line(world: World, tmp_path: Path) -> None:
    text = """{
  "organizations": [
    {"slug": "fine", "name": "Fine", "sector": "banking", "responsible_team": "banking"},
    {
      "slug": "broken",
      "name": "Broken",
      "sector": "banking",
      "responsible_team": "banking",
      "is_cii": true,
      "assets": [
        {"kind": "cidr", "value": "198.51.100.0/24"},
        {"kind": "cidr", "value": "10.0.0.1/8"}
      ]
    }
  ]
}"""
    message = _rejected(_write(tmp_path, "orgs.json", text))
    assert "organizations[1] (line 4): A CII organization needs a CII grade." in message
    assert (
        "organizations[1].assets[0] (line 11): 198.51.100.0/24 is already registered to "
        'another organization, "telco"'
    ) in message
    assert "organizations[1].assets[1] (line 12): 10.0.0.1/8 has host bits set" in message
    assert "organizations[0]" not in message


def test_a_missing_required_column_is_named_once(world: World, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "orgs.csv",
        "record,slug,name,sector\norganization,a,A,banking\norganization,b,B,banking\n",
    )
    message = _rejected(path)
    assert message.count('the header has no "responsible_team" column') == 1
    assert "line 1:" in message


def test_columns_that_do_not_fit_the_row_are_refused(world: World, tmp_path: Path) -> None:
    message = _rejected(_csv(tmp_path, "sector,water,Water,,banking,,,,,,,,,,,"))
    assert 'line 2: column "parent" does not apply to a sector row' in message


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "the file is empty"),
        (b"  \n\n", "the file is empty"),
        (b"record,slug\nsector,caf\xe9\n", "line 2: the file is not UTF-8 text"),
        (b'{"sectors": [\n  {"slug": "x",}\n]}', "line 2: invalid JSON at column"),
        (b'{"organisations": []}', 'unknown section "organisations"'),
        (b"[1, 2]", "expected a JSON object"),
        (b"recrd,slug\nsector,x\n", 'unknown column "recrd"'),
        (b"record,slug\nplanet,x\n", 'line 2: unknown record type "planet"'),
    ],
)
def test_unreadable_files_are_refused_in_plain_words(
    world: World, tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / "input.data"
    path.write_bytes(content)
    assert reason in _rejected(path)


def test_a_missing_file_is_named(db, tmp_path: Path) -> None:
    assert "no such file" in _rejected(tmp_path / "absent.json")


def test_the_command_line_shows_errors_without_a_traceback(tmp_path: Path) -> None:
    certhub = Path(sys.executable).with_name("certhub")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CERTHUB_")}
    env["CERTHUB_DATA_DIR"] = str(tmp_path)
    broken = _write(tmp_path, "broken.json", '{"teams": [}')
    for target in (str(tmp_path / "absent.csv"), str(broken)):
        result = subprocess.run(
            [str(certhub), "constituency", "import", target],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 1
        assert "Traceback" not in result.stderr
        assert "CommandError" in result.stderr


def test_a_dry_run_counts_but_writes_nothing(world: World, tmp_path: Path) -> None:
    before = _counts()
    output = _import(_csv(tmp_path, "sector,water,Water,,,,,,,,,,,,,"), "--dry-run")
    assert _counts() == before
    assert "sectors               1        0          0" in output
    assert "dry run" in output


def test_an_asset_already_registered_to_its_organization_is_unchanged(db, tmp_path: Path) -> None:
    national = make_team("national", TeamKind.NATIONAL)
    org = make_org("bank", national)
    make_asset(org, AssetKind.ASN, "AS64500")
    output = _import(_csv(tmp_path, "asset,,,asn,,,,,,,bank,,64500,,,"))
    assert "assets                0        0          1" in output


def test_export_writes_to_a_file(rich_world: World, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    call_command(
        "constituency", "export", "--format", "csv", "--output", str(target), stderr=io.StringIO()
    )
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("record,slug,name,kind,parent,")
    assert "organization,city-bank,City-Bank" in "\n".join(lines)
