"""The public CSAF provider under /.well-known/csaf/: metadata, the TLP:CLEAR folder with
index.txt and changes.csv, hashes that match the bytes, and signatures gpg accepts."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from certhub.advisories import services
from certhub.advisories.models import Advisory
from certhub.notify import openpgp as signing
from tests.advisories.conftest import publish
from tests.advisories.csaf_checks import check_csaf
from tests.factories import World

pytestmark = pytest.mark.django_db
GPG = "/usr/bin/gpg"
BASE = "/.well-known/csaf"


def file_url(advisory: Advisory) -> str:
    assert advisory.latest_revision is not None
    return f"{BASE}/clear/{advisory.latest_revision.csaf_path}"


def test_provider_metadata_lists_the_folder_and_the_signing_key(world: World) -> None:
    publish(world)
    response = Client().get(f"{BASE}/provider-metadata.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    metadata = response.json()
    key = signing.public_key()
    assert (
        metadata["canonical_url"] == "https://cert.example/.well-known/csaf/provider-metadata.json"
    )
    assert metadata["metadata_version"] == "2.0"
    assert metadata["role"] == "csaf_trusted_provider"
    assert metadata["distributions"] == [
        {"directory_url": "https://cert.example/.well-known/csaf/clear/"}
    ]
    assert metadata["public_openpgp_keys"] == [
        {
            "fingerprint": key.fingerprint,
            "url": f"https://cert.example/.well-known/csaf/openpgp/{key.fingerprint}.asc",
        }
    ]
    assert metadata["publisher"]["name"] == "Example National CERT"
    assert metadata["last_updated"].endswith("Z")


def test_the_platform_key_is_made_once_and_kept_private(world: World, settings: Any) -> None:
    first = signing.public_key()
    path = Path(settings.DATA_DIR) / "openpgp" / "platform-key.asc"
    assert path.exists()
    assert (path.stat().st_mode & 0o777) == 0o600
    assert "PRIVATE KEY" in path.read_text()
    assert signing.public_key().fingerprint == first.fingerprint
    response = Client().get(f"{BASE}/openpgp/{first.fingerprint}.asc")
    assert response.status_code == 200
    body = response.content.decode()
    assert "BEGIN PGP PUBLIC KEY BLOCK" in body
    assert "PRIVATE" not in body
    assert Client().get(f"{BASE}/openpgp/{'A' * 40}.asc").status_code == 404


def test_index_and_changes_list_only_published_clear_advisories(world: World) -> None:
    older = publish(world)
    newer = publish(world, title="Second advisory")
    amber = publish(world, tlp="AMBER")
    unpublished = services.create_advisory(
        actor=world.users["national.analyst"], team=None, data={"title": "t", "summary": "s"}
    )
    client = Client()
    index = client.get(f"{BASE}/clear/index.txt")
    assert index["Content-Type"].startswith("text/plain")
    lines = index.content.decode().splitlines()
    assert lines == sorted([older.latest_revision.csaf_path, newer.latest_revision.csaf_path])  # type: ignore[union-attr]
    changes = client.get(f"{BASE}/clear/changes.csv")
    assert changes["Content-Type"].startswith("text/csv")
    rows = [line.split(",") for line in changes.content.decode().splitlines()]
    assert [row[0].strip('"') for row in rows] == [
        newer.latest_revision.csaf_path,  # type: ignore[union-attr]
        older.latest_revision.csaf_path,  # type: ignore[union-attr]
    ]
    document = json.loads(client.get(file_url(newer)).content)
    assert rows[0][1] == f'"{document["document"]["tracking"]["current_release_date"]}"'
    for hidden in (amber, unpublished):
        assert hidden.tracking_id.lower() not in index.content.decode()
    assert client.get(file_url(amber)).status_code == 404


def test_documents_hashes_and_signatures_match_the_bytes(world: World, tmp_path: Path) -> None:
    advisory = publish(world)
    client = Client()
    response = client.get(file_url(advisory))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.content
    check_csaf(json.loads(body))
    filename = file_url(advisory).rsplit("/", 1)[1]
    sha256 = client.get(file_url(advisory) + ".sha256").content.decode()
    sha512 = client.get(file_url(advisory) + ".sha512").content.decode()
    assert sha256 == f"{hashlib.sha256(body).hexdigest()}  {filename}\n"
    assert sha512 == f"{hashlib.sha512(body).hexdigest()}  {filename}\n"
    signature = client.get(file_url(advisory) + ".asc")
    assert signature.content.startswith(b"-----BEGIN PGP SIGNATURE-----")

    key = client.get(f"{BASE}/openpgp/{signing.public_key().fingerprint}.asc").content
    gnupghome = tmp_path / "gnupg"
    gnupghome.mkdir(mode=0o700)
    (tmp_path / filename).write_bytes(body)
    (tmp_path / f"{filename}.asc").write_bytes(signature.content)
    (tmp_path / "key.asc").write_bytes(key)
    env = {**os.environ, "GNUPGHOME": str(gnupghome)}
    subprocess.run([GPG, "--batch", "--import", str(tmp_path / "key.asc")], env=env, check=True,
                   capture_output=True)  # fmt: skip
    verified = subprocess.run(
        [GPG, "--batch", "--status-fd", "1", "--verify", str(tmp_path / f"{filename}.asc"),
         str(tmp_path / filename)],
        env=env, capture_output=True, encoding="utf-8", errors="replace",
    )  # fmt: skip
    assert verified.returncode == 0, verified.stderr
    assert "[GNUPG:] GOODSIG" in verified.stdout
    assert "VALIDSIG" in verified.stdout
    assert signing.public_key().fingerprint in verified.stdout

    # A tampered copy does not verify.
    (tmp_path / filename).write_bytes(body.replace(b"Example", b"Exampel", 1))
    tampered = subprocess.run(
        [GPG, "--batch", "--verify", str(tmp_path / f"{filename}.asc"), str(tmp_path / filename)],
        env=env, capture_output=True,
    )  # fmt: skip
    assert tampered.returncode != 0


def test_served_bytes_stay_the_same_after_an_update_is_prepared(world: World) -> None:
    advisory = publish(world)
    client = Client()
    before = client.get(file_url(advisory)).content
    services.update_advisory(
        actor=world.users["national.analyst"], advisory=advisory, data={"title": "Changed"}
    )
    assert client.get(file_url(advisory)).content == before


def test_unknown_files_are_not_found(world: World) -> None:
    client = Client()
    assert client.get(f"{BASE}/clear/2026/nothing-here.json").status_code == 404
    assert client.get(f"{BASE}/clear/2026/nothing-here.json.asc").status_code == 404
    assert client.get(f"{BASE}/clear/index.txt").content == b""
    assert client.post(f"{BASE}/clear/index.txt").status_code == 405
