"""docker/s3_init.py against the compose S3 server (SeaweedFS, same release, run as compose runs it).

The one-shot must leave the platform's key able to use its four buckets and nothing else, the API's
key able to read the data bucket and nothing else, be safe to re-run, follow a change of a key in
.env, and say clearly when the root key is wrong.
"""

from __future__ import annotations

import importlib.util
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


def api_key() -> tuple[str, str]:
    return f"api{secrets.token_hex(10)}", secrets.token_hex(16)


def init_env(
    server: SeaweedFS,
    app: tuple[str, str],
    api: tuple[str, str] | None = None,
    root: tuple[str, str] | None = None,
    url: str | None = None,
) -> dict[str, str]:
    """s3-init's environment, as compose gives it."""
    root, api = root or server.root_key, api or api_key()
    return {
        "PATH": os.environ["PATH"],
        "S3_ENDPOINT_URL": url or server.url,
        "S3_ROOT_ACCESS_KEY": root[0],
        "S3_ROOT_SECRET_KEY": root[1],
        "S3_APP_ACCESS_KEY": app[0],
        "S3_APP_SECRET_KEY": app[1],
        "S3_API_ACCESS_KEY": api[0],
        "S3_API_SECRET_KEY": api[1],
        "S3_BUCKETS": ",".join(BUCKETS),
        "S3_API_BUCKETS": "data",
        "S3_INIT_TIMEOUT_SECONDS": "20" if url is None else "2",
    }


def run_script(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=120)


def run_init(server: SeaweedFS, app: tuple[str, str], **kwargs) -> subprocess.CompletedProcess:
    return run_script(init_env(server, app, **kwargs))


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


def test_the_api_key_reads_the_data_bucket_and_nothing_else(server: SeaweedFS):
    app, api = app_key(), api_key()
    result = run_init(server, app, api=api)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"user crime-weather-api: key {api[0]} created, read-only on data" in result.stdout

    platform, reader = client(server, app), client(server, api)
    platform.put_object(Bucket="data", Key="robbery_forecast/2026-11-29.parquet", Body=b"PAR1")
    platform.put_object(Bucket="landing", Key="delitos_2024.csv", Body=b"a,b\n")
    listed = reader.list_objects_v2(Bucket="data", Prefix="robbery_forecast/")["Contents"]
    assert [item["Key"] for item in listed] == ["robbery_forecast/2026-11-29.parquet"]
    assert (
        reader.get_object(Bucket="data", Key="robbery_forecast/2026-11-29.parquet")["Body"].read() == b"PAR1"
    )

    for write in (
        lambda: reader.put_object(Bucket="data", Key="robbery_forecast/2026-11-30.parquet", Body=b"x"),
        lambda: reader.put_object(Bucket="data", Key="robbery_forecast/2026-11-29.parquet", Body=b"x"),
        lambda: reader.delete_object(Bucket="data", Key="robbery_forecast/2026-11-29.parquet"),
        lambda: reader.create_bucket(Bucket="api-made"),
    ):
        assert error_code(write) == "AccessDenied"
    assert (
        platform.get_object(Bucket="data", Key="robbery_forecast/2026-11-29.parquet")["Body"].read()
        == b"PAR1"
    )
    for bucket in set(BUCKETS) - {"data"}:
        assert error_code(lambda bucket=bucket: reader.list_objects_v2(Bucket=bucket)) == "AccessDenied"
    assert error_code(lambda: reader.get_object(Bucket="landing", Key="delitos_2024.csv")) == "AccessDenied"

    again = run_init(server, app, api=api)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"key {api[0]} kept" in again.stdout
    reader.head_bucket(Bucket="data")


def test_the_check_reports_an_api_key_that_can_do_more_than_read(server: SeaweedFS, monkeypatch):
    """What s3-init verifies can fail: an API user whose policy was widened is caught."""
    env = init_env(server, app_key())
    assert run_script(env).returncode == 0
    spec = importlib.util.spec_from_file_location("s3_init", SCRIPT)
    s3_init = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "s3_init", s3_init)  # its dataclasses look their module up
    spec.loader.exec_module(s3_init)
    target = s3_init.Target.from_env(env)
    api = target.users[1]
    assert (api.name, api.writes, api.buckets) == ("crime-weather-api", False, ("data",))
    assert s3_init.check_user(target, api, limited=True) == []

    wide = s3_init.bucket_policy(BUCKETS, ("s3:*",))
    iam = target.client("iam", target.root)
    iam.put_user_policy(UserName=api.name, PolicyName=s3_init.POLICY_NAME, PolicyDocument=wide)
    reader = client(server, api.key)
    widened = lambda: s3_init._succeeds(lambda: reader.list_objects_v2(Bucket="landing"))  # noqa: E731
    assert s3_init._retry(widened, seconds=15), "the widened policy never reached the gateway"
    problems = s3_init.check_user(target, api, limited=True, settle=0)
    assert any("can write bucket data" in problem for problem in problems), problems
    assert any("can read bucket landing" in problem for problem in problems), problems
    # s3-init itself puts the read-only policy back.
    assert run_script(env).returncode == 0
    assert s3_init.check_user(target, api, limited=True) == []


def test_the_api_and_the_platform_cannot_share_a_key(server: SeaweedFS):
    app = app_key()
    result = run_init(server, app, api=app)
    assert result.returncode == 1
    assert "S3_APP_ACCESS_KEY and S3_API_ACCESS_KEY are the same" in result.stderr


def test_a_new_secret_or_key_in_env_replaces_the_old_one(server: SeaweedFS):
    first, api = app_key(), api_key()
    assert run_init(server, first, api=api).returncode == 0

    rotated, api_rotated = (first[0], secrets.token_hex(16)), (api[0], secrets.token_hex(16))
    result = run_init(server, rotated, api=api_rotated)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"key {first[0]} replaced" in result.stdout and f"key {api[0]} replaced" in result.stdout
    for new, old in ((rotated, first), (api_rotated, api)):
        client(server, new).head_bucket(Bucket="data")
        assert error_code(lambda old=old: client(server, old).head_bucket(Bucket="data")) in {
            "403",
            "SignatureDoesNotMatch",
        }

    renamed, api_renamed = app_key(), api_key()
    result = run_init(server, renamed, api=api_renamed)
    assert result.returncode == 0, result.stdout + result.stderr
    for new, old in ((renamed, rotated), (api_renamed, api_rotated)):
        client(server, new).head_bucket(Bucket="data")
        assert error_code(lambda old=old: client(server, old).head_bucket(Bucket="data")) in {
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
