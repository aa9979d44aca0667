"""The S3 remote (dvc-s3) against moto's S3 server, started in-process on 127.0.0.1."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from steward.artifacts.registration import RegistrationRequest, register_version
from steward.artifacts.retrieve import pull_version, verify_versions
from steward.artifacts.store import IntegrityError
from steward.reading.create import create_model
from steward.reading.scaffold import init_registry
from tests.builders import run_git
from tests.dvc_registry import write_model_files

BUCKET = "models"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=BUCKET)
    try:
        yield endpoint
    finally:
        server.stop()


def s3_registry(tmp_path: Path, endpoint: str) -> Path:
    root = init_registry(tmp_path / "registry", f"s3://{BUCKET}/registry").root
    with (root / ".dvc/config").open("a") as config:
        config.write(f"    endpointurl = {endpoint}\n")
    run_git(root, "commit", "-qam", "S3 endpoint of the test server")
    create_model(root, {"name": "fraud", "owner": "carol", "team": "risk-ml", "risk": "limited"})
    return root


def test_register_pull_and_verify_on_s3(s3: str, tmp_path: Path) -> None:
    root = s3_registry(tmp_path, s3)
    files = write_model_files(tmp_path / "out", b"weights on s3")
    result = register_version(root, RegistrationRequest("fraud", (files,)))
    client = boto3.client("s3", endpoint_url=s3)
    keys = {o["Key"] for o in client.list_objects_v2(Bucket=BUCKET)["Contents"]}
    oid = hashlib.md5(b"weights on s3").hexdigest()
    assert f"registry/files/md5/{oid[:2]}/{oid[2:]}" in keys
    assert f"registry/files/md5/{result.md5[:2]}/{result.md5[2:]}" in keys
    assert verify_versions(root, deep=True).ok

    # A machine without the cache pulls from S3.
    clone = tmp_path / "clone"
    run_git(tmp_path, "clone", "-q", str(root), str(clone))
    pulled = pull_version(clone, "fraud", version=result.version, output=tmp_path / "serve")
    assert (pulled.destination / "model.pkl").read_bytes() == b"weights on s3"

    # Corrupt the object on S3: pull refuses it, verify --deep names it, verify finds it gone.
    key = f"registry/files/md5/{oid[:2]}/{oid[2:]}"
    client.put_object(Bucket=BUCKET, Key=key, Body=b"tampered")
    with pytest.raises(IntegrityError):
        pull_version(clone, "fraud", version=result.version, output=tmp_path / "serve2")
    assert not (tmp_path / "serve2").exists()
    deep = verify_versions(clone, deep=True)
    assert [p.relpath for p in deep.problems["fraud@0.1.0"]] == ["model.pkl"]
    client.delete_object(Bucket=BUCKET, Key=key)
    shallow = verify_versions(clone)
    assert [p.problem for p in shallow.problems["fraud@0.1.0"]] == ["missing from the remote"]


def test_an_unreachable_s3_endpoint_fails_and_leaves_nothing(tmp_path: Path) -> None:
    root = s3_registry(tmp_path, "http://127.0.0.1:9")  # nothing listens on the discard port
    head = run_git(root, "rev-parse", "HEAD")
    files = write_model_files(tmp_path / "out", b"w")
    from steward.errors import RemoteError

    with pytest.raises(RemoteError, match="could not push to the DVC remote s3://models/registry"):
        register_version(root, RegistrationRequest("fraud", (files,)))
    assert run_git(root, "rev-parse", "HEAD") == head
    assert run_git(root, "status", "--porcelain") == ""
