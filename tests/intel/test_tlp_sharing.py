"""TLP 2.0 enforced in one place (``tenancy.tlp.sharing_refusal``) on every way out:
RED only to named recipients, AMBER+STRICT only within the recipient organization,
AMBER within it and its clients, GREEN to the community (never the public), CLEAR
anywhere. Each label is tried on each path: STIX, TAXII, MISP, CSV and e-mail."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
import requests
from django.contrib.auth.models import AnonymousUser
from django.test import Client

from certhub.accounts.services import create_token
from certhub.core.errors import Forbidden
from certhub.feeds import services as feed_services
from certhub.feeds.digests import send_organization_digest
from certhub.incidents.models import Incident
from certhub.intel.exchange_models import Collection
from certhub.intel.exchange_selectors import incident_holders
from certhub.intel.exchange_services import share_incident
from certhub.notify.models import OutboundMail
from certhub.notify.services import queue_mail
from certhub.tenancy.models import Contact
from certhub.tenancy.tlp import TLP, Audience, SharePath, audience_of, sharing_refusal
from tests.factories import World, bearer_client, make_incident

LABELS = ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]
# The farthest audience each label reaches (FIRST TLP 2.0 in certhub's terms).
REACH = {
    "CLEAR": Audience.PUBLIC,
    "GREEN": Audience.COMMUNITY,
    "AMBER": Audience.PASSED_ON,
    "AMBER+STRICT": Audience.ORGANIZATION,
    "RED": Audience.NAMED,
}
FEEDS = Path(__file__).parent.parent / "feeds" / "data"


@pytest.mark.parametrize("path", list(SharePath))
@pytest.mark.parametrize("label", LABELS)
@pytest.mark.parametrize("audience", list(Audience))
def test_the_one_check_for_every_label_path_and_audience(
    label: str, path: SharePath, audience: Audience
) -> None:
    refusal = sharing_refusal(label, path=path, audience=audience)
    assert (refusal is None) == (audience <= REACH[label])
    if refusal:
        assert f"TLP:{label}" in refusal
        assert str(path.label) in refusal


def test_green_never_goes_to_the_public() -> None:
    assert sharing_refusal(TLP.GREEN, path=SharePath.CSV, audience=Audience.PUBLIC)
    assert sharing_refusal(TLP.CLEAR, path=SharePath.CSV, audience=Audience.PUBLIC) is None


def bank_incident(world: World, label: str) -> Incident:
    return make_incident(
        world.users["national-bank.reporter"],
        title="Credential phishing against staff",
        observables_text="login-bank[.]example 203.0.113.9",
        tlp=label,
    )


def test_audience_of_each_reader_of_a_bank_incident(world: World) -> None:
    holders = incident_holders(bank_incident(world, "AMBER"))
    assert audience_of(world.users["national-bank.reporter"], holders) == Audience.NAMED
    assert audience_of(world.users["banking.viewer"], holders) == Audience.NAMED  # named team
    assert audience_of(world.users["national-bank.org_admin"], holders) == Audience.ORGANIZATION
    assert audience_of(world.users["national.analyst"], holders) == Audience.ORGANIZATION
    assert audience_of(world.users["city-bank.reporter"], holders) == Audience.PASSED_ON
    assert audience_of(world.users["telecom.analyst"], holders) == Audience.COMMUNITY
    assert audience_of(AnonymousUser(), holders) == Audience.PUBLIC


@pytest.mark.parametrize("label", LABELS)
def test_stix_export_each_label(world: World, label: str) -> None:
    incident = bank_incident(world, label)
    url = f"/api/v1/incidents/{incident.reference}/stix"
    # The national analyst is the organization (a team above), never named on it.
    national = bearer_client(world.users["national.analyst"]).get(url)
    assert national.status_code == (403 if label == "RED" else 200)
    # The reporter is a named recipient: every label reaches it.
    assert bearer_client(world.users["national-bank.reporter"]).get(url).status_code == 200


@pytest.mark.parametrize("label", LABELS)
def test_taxii_each_label(live_server: Any, world: World, label: str) -> None:

    incident = bank_incident(world, label)
    report = share_incident(
        actor=world.users["banking.analyst"], reference=incident.reference, target="team:banking"
    )
    indicators = [i for i in report.added if i.startswith("indicator--")]
    if label == "RED":
        assert indicators == []
        assert all("TLP:RED" in r["reason"] for r in report.refused)
        return
    assert len(indicators) == 2
    collection = Collection.objects.get(kind="team", team=world.teams["banking"])
    url = f"{live_server.url}/taxii2/api/collections/{collection.pk}/objects/?match[type]=indicator"

    def indicators_for(username: str) -> int:
        # CERT staff under the MFA policy send a token as the Basic password.
        user = world.users[username]
        token = create_token(actor=user, user=user, name="taxii")[1]
        answer = requests.get(
            url,
            auth=(username, token),
            headers={"Accept": "application/taxii+json;version=2.1"},
            timeout=10,
        )
        assert answer.status_code == 200
        return len(answer.json().get("objects", []))

    assert indicators_for("banking.analyst") == 2  # the organization
    # Another bank is a client of the Banking CERT: AMBER may reach it, AMBER+STRICT not.
    assert indicators_for("city-bank.reporter") == (0 if label == "AMBER+STRICT" else 2)


@pytest.mark.parametrize("label", LABELS)
def test_misp_each_label(world: World, label: str) -> None:
    incident = bank_incident(world, label)

    def misp_client(username: str) -> Client:
        user = world.users[username]
        return Client(headers={"Authorization": create_token(actor=user, user=user, name="m")[1]})

    national = misp_client("national.analyst").get(f"/misp/events/view/{incident.pk}")
    assert national.status_code == (404 if label == "RED" else 200)
    export = bearer_client(world.users["national.analyst"]).get(
        f"/api/v1/incidents/{incident.reference}/misp"
    )
    assert export.status_code == (403 if label == "RED" else 200)
    named = misp_client("national-bank.reporter").get(f"/misp/events/view/{incident.pk}")
    assert named.status_code == 200
    assert named.json()["Event"]["Tag"][0]["name"] == f"tlp:{label.lower()}"


@pytest.fixture
def bank_events(world: World, settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    feed_services.ingest_file(path=FEEDS / "2026-11-27-scan_http-pk-geo.csv")
    Contact.objects.create(
        organization=world.orgs["national-bank"],
        name="SOC",
        email="soc@nationalbank.example",
        notifications=["feed_digests"],
    )


@pytest.mark.parametrize("label", LABELS)
def test_csv_export_each_label(world: World, settings: Any, bank_events: None, label: str) -> None:
    settings.CERTHUB_FEEDS_DIGEST_TLP = label
    answer = bearer_client(world.users["national-bank.reporter"]).get("/api/v1/events?format=csv")
    if label == "RED":  # feed events name no recipient: RED CSV never leaves
        assert answer.status_code == 403
        assert "TLP:RED" in answer.json()["detail"]
    else:
        assert answer.status_code == 200
        assert answer["X-Certhub-TLP"] == label
        assert "192.0.2." in b"".join(answer.streaming_content).decode()


@pytest.mark.parametrize("label", LABELS)
def test_email_digest_each_label(
    world: World, settings: Any, bank_events: None, label: str
) -> None:
    settings.CERTHUB_FEEDS_DIGEST_TLP = label
    sent = send_organization_digest(
        organization=world.orgs["national-bank"], day=dt.date(2026, 11, 27)
    )
    assert sent is (label != "RED")
    mails = OutboundMail.objects.filter(kind="feed_digest")
    assert mails.count() == (0 if label == "RED" else 1)
    if label != "RED":
        assert mails.get().subject.startswith(f"[TLP:{label}]")


@pytest.mark.parametrize("label", LABELS)
@pytest.mark.parametrize(
    "audience", [Audience.NAMED, Audience.ORGANIZATION, Audience.PASSED_ON, Audience.COMMUNITY]
)
def test_email_queue_each_label_and_audience(db: Any, label: str, audience: Audience) -> None:
    def send() -> Any:
        return queue_mail(
            to=["someone@example.org"],
            subject="Indicators",
            body="See the list.",
            tlp=label,
            audience=audience,
        )

    if audience <= REACH[label]:
        assert send() is not None
    else:
        with pytest.raises(Forbidden, match=re.escape(f"TLP:{label}")):
            send()
        assert not OutboundMail.objects.exists()
