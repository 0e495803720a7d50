"""docker/s3_init.py against the compose S3 server (SeaweedFS, same release, run as compose runs it).

The one-shot must leave the platform's key able to use its four buckets and nothing else, be safe to
re-run, follow a change of the key in .env, and say clearly when the root key is wrong.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from crime_weather_tests.compose.seaweedfs import SeaweedFS
from harness.processes import ROOT

pytestmark = pytest.mark.timeout(300)

BUCKETS = ("data", "landing", "mlflow", "dagster")
SCRIPT = ROOT / "docker" / "s3_init.py"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    root_key = (f"root{secrets.token_hex(10)}", secrets.token_hex(16))
    seaweedfs = SeaweedFS(tmp_path_factory.mktemp("seaweedfs"), root_key).start()
    try:
        yield seaweedfs
    except BaseException:
        print(seaweedfs.tail())
        raise
    finally:
        seaweedfs.stop()


def app_key() -> tuple[str, str]:
    return f"app{secrets.token_hex(10)}", secrets.token_hex(16)


def run_init(
    server: SeaweedFS, app: tuple[str, str], root: tuple[str, str] | None = None, url: str | None = None
) -> subprocess.CompletedProcess:
    root = root or server.root_key
    env = {
        "PATH": os.environ["PATH"],
        "S3_ENDPOINT_URL": url or server.url,
        "S3_ROOT_ACCESS_KEY": root[0],
        "S3_ROOT_SECRET_KEY": root[1],
        "S3_APP_ACCESS_KEY": app[0],
        "S3_APP_SECRET_KEY": app[1],
        "S3_BUCKETS": ",".join(BUCKETS),
        "S3_INIT_TIMEOUT_SECONDS": "20" if url is None else "2",
    }
    return subprocess.run([sys.executable, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=120)


def client(server: SeaweedFS, key: tuple[str, str]):
    return boto3.client(
        "s3",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=key[0],
        aws_secret_access_key=key[1],
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


def error_code(call) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"]


def test_the_platform_key_reaches_its_buckets_and_nothing_else(server: SeaweedFS):
    app = app_key()
    result = run_init(server, app)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"key {app[0]} created" in result.stdout

    root = client(server, server.root_key)
    assert {b["Name"] for b in root.list_buckets()["Buckets"]} >= set(BUCKETS)
    root.create_bucket(Bucket="someone-else")
    root.put_object(Bucket="someone-else", Key="secret.txt", Body=b"not for the platform")

    platform = client(server, app)
    for bucket in BUCKETS:
        platform.put_object(Bucket=bucket, Key="probe/x.csv", Body=b"a,b\n1,2\n")
        assert platform.get_object(Bucket=bucket, Key="probe/x.csv")["Body"].read() == b"a,b\n1,2\n"
        listed = platform.list_objects_v2(Bucket=bucket, Prefix="probe/")["Contents"]
        assert [item["Key"] for item in listed] == ["probe/x.csv"]
        platform.delete_object(Bucket=bucket, Key="probe/x.csv")
        assert ".s3-init-probe" not in str(root.list_objects_v2(Bucket=bucket).get("Contents", []))
    assert error_code(lambda: platform.get_object(Bucket="someone-else", Key="secret.txt")) == "AccessDenied"
    assert (
        error_code(lambda: platform.put_object(Bucket="someone-else", Key="x", Body=b"x")) == "AccessDenied"
    )
    assert error_code(lambda: platform.create_bucket(Bucket="platform-made")) == "AccessDenied"

    # Safe to re-run: nothing changes, the key keeps working.
    again = run_init(server, app)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"key {app[0]} kept" in again.stdout and "created: none" in again.stdout
    platform.head_bucket(Bucket="landing")


def test_a_new_secret_or_key_in_env_replaces_the_old_one(server: SeaweedFS):
    first = app_key()
    assert run_init(server, first).returncode == 0

    rotated = (first[0], secrets.token_hex(16))
    result = run_init(server, rotated)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"key {first[0]} replaced" in result.stdout
    client(server, rotated).head_bucket(Bucket="data")
    assert error_code(lambda: client(server, first).head_bucket(Bucket="data")) in {
        "403",
        "SignatureDoesNotMatch",
    }

    renamed = app_key()
    result = run_init(server, renamed)
    assert result.returncode == 0, result.stdout + result.stderr
    client(server, renamed).head_bucket(Bucket="data")
    assert error_code(lambda: client(server, rotated).head_bucket(Bucket="data")) in {
        "403",
        "InvalidAccessKeyId",
    }


def test_a_wrong_root_key_fails_with_a_reason(server: SeaweedFS):
    result = run_init(server, app_key(), root=(server.root_key[0], "not-the-secret"))
    assert result.returncode == 1
    assert "S3_ROOT_ACCESS_KEY" in result.stderr


def test_an_unreachable_server_fails_with_a_reason(server: SeaweedFS):
    result = run_init(server, app_key(), url="http://127.0.0.1:9")
    assert result.returncode == 1
    assert "did not answer" in result.stderr
