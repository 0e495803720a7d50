import os

import boto3
import pytest

from crime_weather.core.storage import LocalStore, S3Store, open_store


def test_local_store_lists_versions_and_hides_partial_files(tmp_path):
    store = LocalStore(tmp_path)
    store.write("a/b.csv", b"one")
    (tmp_path / "c.csv.part").write_bytes(b"half")
    (tmp_path / ".hidden").write_bytes(b"x")
    (info,) = store.list()
    assert info.key == "a/b.csv" and info.size == 3
    store.write("a/b.csv", b"two!")
    assert store.list()[0].version != info.version and store.read("a/b.csv") == b"two!"
    assert not any(name.endswith(".tmp") for name in os.listdir(tmp_path / "a"))


def test_s3_store_over_the_real_protocol(moto_s3):
    boto3.client("s3", endpoint_url=moto_s3).create_bucket(Bucket="landing")
    store = open_store("s3://landing/drop", moto_s3)
    assert isinstance(store, S3Store) and store.list() == []
    store.write("delitos_2019.csv", b"id,fecha\n")
    store.write("sub/x.csv", b"a,b\n")
    assert [info.key for info in store.list()] == ["delitos_2019.csv", "sub/x.csv"]
    assert store.exists("sub/x.csv") and not store.exists("nope.csv")
    version = store.list()[0].version
    store.write("delitos_2019.csv", b"id,fecha\n1,2019-01-01\n")
    assert store.list()[0].version != version
    assert store.read("delitos_2019.csv").endswith(b"2019-01-01\n")


def test_s3_errors_other_than_missing_are_raised(moto_s3):
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError):
        open_store("s3://no-such-bucket", moto_s3).read("x")
