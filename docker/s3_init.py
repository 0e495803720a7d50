"""Compose one-shot `s3-init`: the platform's buckets and its own limited credentials. Idempotent.

Works against any S3 server through boto3 alone (no vendor client image):
1. the buckets are created with the server's root credentials (S3 CreateBucket);
2. the platform's user gets a policy limited to those buckets and the access key from .env, through
   the AWS IAM API where the server offers one (SeaweedFS serves it on its S3 port and, unlike AWS,
   accepts a chosen key id and secret). Re-running after a change of the key or secret in .env
   replaces the old key. A server without an IAM API must hold the platform's key in its own
   configuration; the step then only checks it;
3. the platform's key is checked: it reads and writes every bucket and cannot create buckets.

Environment: S3_ENDPOINT_URL, S3_ROOT_ACCESS_KEY, S3_ROOT_SECRET_KEY, S3_APP_ACCESS_KEY,
S3_APP_SECRET_KEY, optional S3_BUCKETS (default data,landing,mlflow,dagster), S3_APP_USER
(default crime-weather-platform), AWS_DEFAULT_REGION (default us-east-1).
Exit status 0 when the platform's key works as intended, 1 otherwise (the reason is printed).
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError

DEFAULT_BUCKETS = ("data", "landing", "mlflow", "dagster")
POLICY_NAME = "crime-weather-buckets"
PROBE_KEY = ".s3-init-probe"
# Error codes of an S3 server that has no IAM API on its endpoint.
NO_IAM = {"NotImplemented", "InvalidAction", "MethodNotAllowed", "NoSuchBucket", "InvalidRequest", "404"}
DENIED = {"AccessDenied", "Forbidden", "403"}
BAD_KEY = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidClientTokenId"}


class InitError(Exception):
    """What went wrong, in words for the person reading the container's log."""


@dataclass(frozen=True)
class Target:
    endpoint: str
    region: str
    root: tuple[str, str]
    app: tuple[str, str]
    app_user: str
    buckets: tuple[str, ...]

    @classmethod
    def from_env(cls, env: dict[str, str]) -> Target:
        def need(name: str) -> str:
            value = env.get(name, "")
            if not value:
                raise InitError(f"{name} is not set")
            return value

        buckets = tuple(b.strip() for b in env.get("S3_BUCKETS", ",".join(DEFAULT_BUCKETS)).split(","))
        return cls(
            endpoint=need("S3_ENDPOINT_URL"),
            region=env.get("AWS_DEFAULT_REGION") or "us-east-1",
            root=(need("S3_ROOT_ACCESS_KEY"), need("S3_ROOT_SECRET_KEY")),
            app=(need("S3_APP_ACCESS_KEY"), need("S3_APP_SECRET_KEY")),
            app_user=env.get("S3_APP_USER") or "crime-weather-platform",
            buckets=tuple(b for b in buckets if b),
        )

    def client(self, service: str, key: tuple[str, str]) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id=key[0],
            aws_secret_access_key=key[1],
            config=Config(
                # Key ids of other servers need not follow AWS's format (botocore checks it).
                parameter_validation=False,
                s3={"addressing_style": "path"},
                retries={"max_attempts": 2, "mode": "standard"},
                connect_timeout=5,
                read_timeout=30,
            ),
        )


def code(error: ClientError) -> str:
    return str(
        error.response.get("Error", {}).get("Code")
        or error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    )


def wait_for_server(target: Target, timeout: float) -> None:
    """The endpoint answers and knows the root key (the server may still be starting)."""
    s3 = target.client("s3", target.root)
    deadline = time.monotonic() + timeout
    while True:
        try:
            s3.list_buckets()
            return
        except (EndpointConnectionError, ClientError) as error:
            if isinstance(error, ClientError) and code(error) in BAD_KEY:
                raise InitError(f"the server refuses the root key S3_ROOT_ACCESS_KEY: {error}") from error
            if time.monotonic() > deadline:
                raise InitError(f"{target.endpoint} did not answer in {timeout:.0f} s: {error}") from error
            time.sleep(1)


def ensure_buckets(target: Target) -> list[str]:
    """Create the buckets that are missing; returns the ones created."""
    s3 = target.client("s3", target.root)
    existing = {bucket["Name"] for bucket in s3.list_buckets().get("Buckets", [])}
    created = []
    for bucket in target.buckets:
        if bucket in existing:
            continue
        try:
            s3.create_bucket(Bucket=bucket)
        except ClientError as error:
            if code(error) not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                raise
        created.append(bucket)
    return created


def bucket_policy(buckets: tuple[str, ...]) -> str:
    resources = [arn for bucket in buckets for arn in (f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*")]
    statement = {"Effect": "Allow", "Action": ["s3:*"], "Resource": resources}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _chosen_key(access_key: str, secret_key: str) -> Callable[..., None]:
    """A botocore hook adding the key id and secret to CreateAccessKey (an extension AWS lacks)."""

    def add(params: dict[str, Any], **_: Any) -> None:
        params["body"]["AccessKeyId"] = access_key
        params["body"]["SecretAccessKey"] = secret_key

    return add


def app_key_works(target: Target) -> bool:
    try:
        target.client("s3", target.app).head_bucket(Bucket=target.buckets[0])
    except ClientError as error:
        if code(error) in BAD_KEY | DENIED:
            return False
        raise
    return True


def provision_app_user(target: Target) -> str | None:
    """The platform's user, policy and key through the IAM API; None when the server has none."""
    iam = target.client("iam", target.root)
    try:
        iam.create_user(UserName=target.app_user)
    except ClientError as error:
        if code(error) in NO_IAM:
            return None
        if code(error) != "EntityAlreadyExists":
            raise
    iam.put_user_policy(
        UserName=target.app_user, PolicyName=POLICY_NAME, PolicyDocument=bucket_policy(target.buckets)
    )
    access_key, secret_key = target.app
    keys = {k["AccessKeyId"] for k in iam.list_access_keys(UserName=target.app_user)["AccessKeyMetadata"]}
    action = "kept"
    if access_key in keys and not _retry(lambda: app_key_works(target), seconds=5):
        iam.delete_access_key(UserName=target.app_user, AccessKeyId=access_key)  # the secret changed
        keys.discard(access_key)
        action = "replaced"
    if access_key not in keys:
        iam.meta.events.register("before-call.iam.CreateAccessKey", _chosen_key(access_key, secret_key))
        try:
            created = iam.create_access_key(UserName=target.app_user)["AccessKey"]["AccessKeyId"]
        except ClientError as error:
            raise InitError(
                f"could not create the key S3_APP_ACCESS_KEY for {target.app_user}: {error}"
            ) from error
        if created != access_key:
            iam.delete_access_key(UserName=target.app_user, AccessKeyId=created)
            raise InitError(
                "this server's IAM API makes up its own keys: put S3_APP_ACCESS_KEY and "
                "S3_APP_SECRET_KEY in the server's configuration instead"
            )
        action = "created" if action == "kept" else action
    for stale in keys - {access_key}:
        iam.delete_access_key(UserName=target.app_user, AccessKeyId=stale)
    return action


def _retry(check: Callable[[], bool], seconds: float) -> bool:
    """IAM changes reach the S3 gateway asynchronously: ask again for a few seconds."""
    deadline = time.monotonic() + seconds
    while True:
        if check():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)


def check_app_key(target: Target, limited: bool) -> list[str]:
    """Problems with the platform's key: every bucket read and written, no new bucket allowed."""
    s3 = target.client("s3", target.app)
    problems = []
    for bucket in target.buckets:

        def round_trip(bucket: str = bucket) -> bool:
            try:
                s3.put_object(Bucket=bucket, Key=PROBE_KEY, Body=b"s3-init")
                s3.get_object(Bucket=bucket, Key=PROBE_KEY)["Body"].read()
                s3.delete_object(Bucket=bucket, Key=PROBE_KEY)
            except ClientError:
                return False
            return True

        if not _retry(round_trip, seconds=15):
            problems.append(f"the platform's key cannot read and write bucket {bucket}")
    if limited:
        probe = f"s3-init-probe-{uuid.uuid4().hex[:12]}"
        try:
            s3.create_bucket(Bucket=probe)
        except ClientError as error:
            if code(error) not in DENIED:
                problems.append(f"creating a bucket with the platform's key failed oddly: {error}")
        else:
            target.client("s3", target.root).delete_bucket(Bucket=probe)
            problems.append("the platform's key can create buckets: it is not limited to its own")
    return problems


def main(env: dict[str, str] | None = None) -> int:
    try:
        target = Target.from_env(dict(os.environ if env is None else env))
        wait_for_server(target, timeout=float((env or os.environ).get("S3_INIT_TIMEOUT_SECONDS", "60")))
        created = ensure_buckets(target)
        print(f"buckets {', '.join(target.buckets)} ready (created: {', '.join(created) or 'none'})")
        action = provision_app_user(target)
        if action is None:
            print(f"{target.endpoint} has no IAM API: its own configuration holds the platform's key")
        else:
            print(f"user {target.app_user}: key {target.app[0]} {action}, limited to those buckets")
        problems = check_app_key(target, limited=action is not None)
    except InitError as error:
        print(f"s3-init: {error}", file=sys.stderr)
        return 1
    for problem in problems:
        print(f"s3-init: {problem}", file=sys.stderr)
    if problems:
        return 1
    print("the platform's key reads and writes its buckets and nothing else")
    return 0


if __name__ == "__main__":
    sys.exit(main())
