"""Assets are validated and normalised, never registered twice; contacts' OpenPGP keys
are checked when saved."""

from __future__ import annotations

import warnings

import pysequoia
import pytest

from certhub.core.errors import Conflict, Invalid
from certhub.tenancy.assets import normalise_asset
from certhub.tenancy.choices import AssetKind, TeamKind
from certhub.tenancy.models import Asset, Contact
from certhub.tenancy.selectors import owner_of_asn, owner_of_domain, owner_of_ip
from certhub.tenancy.services import add_asset, upsert_contact
from tests.factories import make_org, make_team, make_user


@pytest.mark.parametrize(
    ("kind", "raw", "value"),
    [
        ("cidr", " 192.0.2.0/24 ", "192.0.2.0/24"),
        ("cidr", "2001:0DB8:0000::/48", "2001:db8::/48"),
        ("cidr", "198.51.100.7/32", "198.51.100.7/32"),
        ("asn", "as64500", "AS64500"),
        ("asn", "64501", "AS64501"),
        ("asn", "1.10", "AS65546"),
        ("domain", "WWW.Bank.Example.", "www.bank.example"),
        ("domain", "*.bank.example", "bank.example"),
        ("domain", "bücher.example", "xn--bcher-kva.example"),
    ],
)
def test_assets_are_normalised(kind: str, raw: str, value: str) -> None:
    assert normalise_asset(kind, raw).value == value


@pytest.mark.parametrize(
    ("kind", "raw", "message"),
    [
        ("cidr", "192.0.2.1/24", "host bits set; did you mean 192.0.2.0/24"),
        ("cidr", "192.0.2.0/33", "not an IP network"),
        ("cidr", "bank.example", "not an IP network"),
        ("asn", "AS0", "outside the AS number range"),
        ("asn", "4294967296", "outside the AS number range"),
        ("asn", "ASX", "not an AS number"),
        ("domain", "localhost", "not a domain name"),
        ("domain", "-bad-.example", "not a domain name"),
        ("domain", "10.0.0.1", "looks like an address"),
        ("port", "80", "not an asset kind"),
    ],
)
def test_bad_assets_are_refused_in_plain_words(kind: str, raw: str, message: str) -> None:
    with pytest.raises(Invalid, match=message):
        normalise_asset(kind, raw)


@pytest.fixture
def two_orgs(db):
    national = make_team("national", TeamKind.NATIONAL)
    return (
        make_org("bank", national, "banking"),
        make_org("telco", national, "telecom"),
        make_user("admin", is_superuser=True),
    )


def test_an_asset_of_another_organization_is_refused_naming_its_owner(two_orgs) -> None:
    bank, telco, admin = two_orgs
    add_asset(actor=admin, organization=bank, kind=AssetKind.CIDR, value="192.0.2.0/24")
    with pytest.raises(Conflict, match=r"192\.0\.2\.0/24 is already registered to bank"):
        add_asset(actor=admin, organization=telco, kind=AssetKind.CIDR, value="192.0.2.0/24")
    add_asset(actor=admin, organization=telco, kind=AssetKind.ASN, value="AS64500 ")
    with pytest.raises(Conflict, match="AS64500 is already registered to telco"):
        add_asset(actor=admin, organization=bank, kind=AssetKind.ASN, value="64500")
    assert Asset.objects.filter(value="192.0.2.0/24").count() == 1


def test_re_adding_an_own_asset_changes_nothing(two_orgs) -> None:
    bank, _telco, admin = two_orgs
    _asset, created = add_asset(actor=admin, organization=bank, kind="domain", value="bank.example")
    _asset, again = add_asset(actor=admin, organization=bank, kind="domain", value="BANK.example.")
    assert (created, again) == (True, False)


def test_longest_prefix_wins_for_nested_networks(two_orgs) -> None:
    bank, telco, admin = two_orgs
    add_asset(actor=admin, organization=telco, kind="cidr", value="198.51.0.0/16")
    add_asset(actor=admin, organization=bank, kind="cidr", value="198.51.100.0/24")
    add_asset(actor=admin, organization=telco, kind="cidr", value="2001:db8::/32")
    add_asset(actor=admin, organization=bank, kind="cidr", value="2001:db8:42::/48")
    add_asset(actor=admin, organization=telco, kind="domain", value="telco.example")
    add_asset(actor=admin, organization=telco, kind="asn", value="AS64500")
    assert owner_of_ip("198.51.100.9").organization == bank
    assert owner_of_ip("198.51.7.1").organization == telco
    assert owner_of_ip("::ffff:198.51.100.9").organization == bank
    assert owner_of_ip("2001:db8:42::1").organization == bank
    assert owner_of_ip("2001:db8:43::1").organization == telco
    assert owner_of_ip("203.0.113.1") is None
    assert owner_of_domain("mail.TELCO.example").organization == telco
    assert owner_of_domain("nottelco.example") is None
    assert owner_of_asn("as64500").organization == telco


def _public_key(uid: str = "Bank SOC <soc@bank.example>") -> tuple[str, str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        secret = pysequoia.Tsk.generate(uid)
    cert = secret.extract_certificate()
    return str(cert), cert.fingerprint.upper()


def test_contact_keeps_a_valid_key_with_its_fingerprint(two_orgs) -> None:
    bank, _telco, admin = two_orgs
    armored, fingerprint = _public_key()
    contact, _ = upsert_contact(
        actor=admin,
        organization=bank,
        email="soc@bank.example",
        name="Bank SOC",
        pgp_key=armored,
        notifications=["incidents", "advisories"],
    )
    assert contact.pgp_fingerprint == fingerprint
    assert "BEGIN PGP PUBLIC KEY BLOCK" in contact.pgp_key


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("not a key", "ASCII-armored OpenPGP public key"),
        (
            "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----",
            "cannot be read",
        ),
    ],
)
def test_contact_with_an_unreadable_key_is_refused(two_orgs, key: str, message: str) -> None:
    bank, _telco, admin = two_orgs
    with pytest.raises(Invalid, match=message):
        upsert_contact(
            actor=admin, organization=bank, email="soc@bank.example", name="SOC", pgp_key=key
        )
    assert not Contact.objects.exists()


def test_a_secret_key_is_never_stored(two_orgs) -> None:
    bank, _telco, admin = two_orgs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        secret = str(pysequoia.Tsk.generate("x <x@bank.example>"))
    with pytest.raises(Invalid, match="public key"):
        upsert_contact(
            actor=admin, organization=bank, email="x@bank.example", name="X", pgp_key=secret
        )


def test_unknown_notification_kinds_are_refused(two_orgs) -> None:
    bank, _telco, admin = two_orgs
    with pytest.raises(Invalid, match="Unknown notification kinds: sms"):
        upsert_contact(
            actor=admin, organization=bank, email="x@bank.example", name="X", notifications=["sms"]
        )


def test_an_unchanged_contact_is_not_written_again(two_orgs) -> None:
    from certhub.audit.models import AuditEntry

    bank, _telco, admin = two_orgs
    armored, _fingerprint = _public_key()
    kwargs = {"organization": bank, "email": "soc@bank.example", "name": "SOC", "pgp_key": armored}
    contact, created = upsert_contact(actor=admin, **kwargs)
    stamp = contact.updated_at
    entries = AuditEntry.objects.count()
    again, changed = upsert_contact(actor=admin, **kwargs)
    assert (created, changed) == (True, False)
    again.refresh_from_db()
    assert again.updated_at == stamp
    assert AuditEntry.objects.count() == entries
    other_key, other_fingerprint = _public_key("Other <other@bank.example>")
    kwargs["pgp_key"] = other_key
    updated, changed = upsert_contact(actor=admin, **kwargs)
    assert changed
    assert updated.pgp_fingerprint == other_fingerprint
