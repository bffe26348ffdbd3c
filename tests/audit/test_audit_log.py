"""The audit log: every service writes it in its own transaction, nothing can change it
through the ORM or the admin, and `certhub audit verify` catches direct database edits."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from certhub.audit.models import AppendOnlyError, AuditEntry
from certhub.audit.selectors import verify_chain
from certhub.audit.services import record
from certhub.tenancy.choices import TeamKind
from certhub.tenancy.services import upsert_sector, upsert_team
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def _three_entries() -> list[AuditEntry]:
    admin = make_user("auditor", is_superuser=True)
    upsert_sector(actor=admin, slug="banking", name="Banking")
    upsert_team(
        actor=admin, slug="national", name="National CERT", kind=TeamKind.NATIONAL, parent=None
    )
    upsert_team(
        actor=admin,
        slug="national",
        name="National CERT of Examplestan",
        kind=TeamKind.NATIONAL,
        parent=None,
    )
    return list(AuditEntry.objects.order_by("id"))


def test_services_write_chained_entries_with_before_and_after() -> None:
    entries = _three_entries()
    assert [e.action for e in entries] == ["sector.create", "team.create", "team.update"]
    assert entries[0].actor_name == "auditor"
    assert entries[2].changes == {"name": ["National CERT", "National CERT of Examplestan"]}
    assert entries[1].prev_hash == entries[0].entry_hash
    assert entries[2].prev_hash == entries[1].entry_hash
    assert verify_chain() == (3, None)


def test_an_unchanged_upsert_writes_no_entry() -> None:
    admin = make_user("auditor")
    upsert_sector(actor=admin, slug="banking", name="Banking")
    upsert_sector(actor=admin, slug="banking", name="Banking")
    assert AuditEntry.objects.count() == 1


def test_entry_rolls_back_with_the_change() -> None:
    admin = make_user("auditor")

    def fail_after_the_service() -> None:
        with transaction.atomic():
            upsert_sector(actor=admin, slug="banking", name="Banking")
            raise RuntimeError("the caller fails after the service")

    with pytest.raises(RuntimeError):
        fail_after_the_service()
    assert AuditEntry.objects.count() == 0
    assert verify_chain() == (0, None)


@pytest.mark.django_db(transaction=True)
def test_record_refuses_to_run_outside_a_transaction() -> None:
    with pytest.raises(RuntimeError):
        record(actor=None, action="x")


def test_orm_cannot_change_or_delete_entries() -> None:
    entry = _three_entries()[0]
    entry.action = "forged"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(action="forged")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get(pk=entry.pk).action == "sector.create"


def test_admin_offers_no_way_to_change_entries(client, settings) -> None:
    settings.CERTHUB_REQUIRE_MFA = False
    admin = make_user("root", is_superuser=True, is_staff=True)
    entry = _three_entries()[0]
    client.force_login(admin)
    assert client.get("/admin/audit/auditentry/").status_code == 200
    assert client.get("/admin/audit/auditentry/add/").status_code == 403
    response = client.post(f"/admin/audit/auditentry/{entry.pk}/change/", {"action": "forged"})
    assert response.status_code == 403
    assert (
        client.post(f"/admin/audit/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert AuditEntry.objects.get(pk=entry.pk).action == "sector.create"


def _raw(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_verify_names_a_row_edited_in_the_database(capsys) -> None:
    entries = _three_entries()
    call_command("audit", "verify")
    assert "3 entries verified" in capsys.readouterr().out
    _raw(
        "UPDATE audit_auditentry SET actor_name = %s WHERE id = %s", ["someone-else", entries[1].pk]
    )
    with pytest.raises(CommandError, match=rf"entry #{entries[1].pk}.*altered"):
        call_command("audit", "verify")


def test_verify_catches_a_row_deleted_in_the_middle() -> None:
    entries = _three_entries()
    _raw("DELETE FROM audit_auditentry WHERE id = %s", [entries[1].pk])
    with pytest.raises(CommandError, match=rf"entry #{entries[2].pk}.*removed"):
        call_command("audit", "verify")


def test_verify_catches_the_newest_rows_cut_off() -> None:
    entries = _three_entries()
    _raw("DELETE FROM audit_auditentry WHERE id = %s", [entries[2].pk])
    with pytest.raises(CommandError, match="missing"):
        call_command("audit", "verify")


def test_verify_catches_a_rehashed_forgery() -> None:
    """An attacker who edits a row and recomputes its hash still breaks the next link."""
    from certhub.audit.services import compute_hash

    entries = _three_entries()
    forged = AuditEntry.objects.get(pk=entries[0].pk)
    forged.actor_name = "someone-else"
    _raw(
        "UPDATE audit_auditentry SET actor_name = %s, entry_hash = %s WHERE id = %s",
        ["someone-else", compute_hash(forged), forged.pk],
    )
    with pytest.raises(CommandError, match=rf"entry #{entries[1].pk}"):
        call_command("audit", "verify")
