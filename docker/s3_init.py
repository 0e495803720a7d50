"""Compose one-shot `s3-init`: the platform's buckets and the least-privileged keys that use them.

Works against any S3 server through boto3 alone (no vendor client image):
1. the buckets are created with the server's root credentials (S3 CreateBucket);
2. two users get a policy and the access key from .env, through the AWS IAM API where the server
   offers one (SeaweedFS serves it on its S3 port and, unlike AWS, accepts a chosen key id and secret):
   - the platform (S3_APP_*): reads and writes every bucket;
   - the API (S3_API_*): reads the warehouse bucket (s3:GetObject, s3:ListBucket), nothing else.
   Re-running after a change of a key or secret in .env replaces the old key. A server without an IAM
   API must hold both keys in its own configuration; the step then only checks that they work;
3. each key is checked: the platform's reads and writes every bucket; the API's reads its bucket; with
   an IAM API, also that neither creates buckets and that the API's writes nothing and reads no other
   bucket.

Environment: S3_ENDPOINT_URL, S3_ROOT_ACCESS_KEY, S3_ROOT_SECRET_KEY, S3_APP_ACCESS_KEY,
S3_APP_SECRET_KEY, S3_API_ACCESS_KEY, S3_API_SECRET_KEY, optional S3_BUCKETS (default
data,landing,mlflow,dagster), S3_API_BUCKETS (default data), S3_APP_USER (default
crime-weather-platform), S3_API_USER (default crime-weather-api), AWS_DEFAULT_REGION (default us-east-1).
Exit status 0 when every key works as intended, 1 otherwise (the reason is printed).
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
READ_WRITE = ("s3:*",)
# What reading a prefix takes (the API lists robbery_forecast/ and gets the newest file).
READ_ONLY = ("s3:GetObject", "s3:ListBucket")
# Error codes of an S3 server that has no IAM API on its endpoint.
NO_IAM = {"NotImplemented", "InvalidAction", "MethodNotAllowed", "NoSuchBucket", "InvalidRequest", "404"}
DENIED = {"AccessDenied", "Forbidden", "403"}
BAD_KEY = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidClientTokenId"}


class InitError(Exception):
    """What went wrong, in words for the person reading the container's log."""


@dataclass(frozen=True)
class User:
    """An S3 user of the platform: its key (read from `<env>_ACCESS_KEY` and `<env>_SECRET_KEY`), the
    buckets it may use, and whether it may write them."""

    name: str
    env: str
    key: tuple[str, str]
    buckets: tuple[str, ...]
    writes: bool

    @property
    def grant(self) -> str:
        return f"{'read-write' if self.writes else 'read-only'} on {', '.join(self.buckets)}"


@dataclass(frozen=True)
class Target:
    endpoint: str
    region: str
    root: tuple[str, str]
    buckets: tuple[str, ...]
    users: tuple[User, ...]

    @classmethod
    def from_env(cls, env: dict[str, str]) -> Target:
        def need(name: str) -> str:
            value = env.get(name, "")
            if not value:
                raise InitError(f"{name} is not set")
            return value

        def names(variable: str, default: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(b.strip() for b in env.get(variable, ",".join(default)).split(",") if b.strip())

        buckets = names("S3_BUCKETS", DEFAULT_BUCKETS)
        api_buckets = names("S3_API_BUCKETS", ("data",))
        if not set(api_buckets) <= set(buckets):
            raise InitError(f"S3_API_BUCKETS {', '.join(api_buckets)} are not all in S3_BUCKETS")

        def user(prefix: str, default_name: str, of: tuple[str, ...], writes: bool) -> User:
            keys = (need(f"{prefix}_ACCESS_KEY"), need(f"{prefix}_SECRET_KEY"))
            return User(env.get(f"{prefix}_USER") or default_name, prefix, keys, of, writes=writes)

        users = (
            user("S3_APP", "crime-weather-platform", buckets, writes=True),
            user("S3_API", "crime-weather-api", api_buckets, writes=False),
        )
        if users[0].key[0] == users[1].key[0]:
            raise InitError("S3_APP_ACCESS_KEY and S3_API_ACCESS_KEY are the same: each needs its own key")
        return cls(
            endpoint=need("S3_ENDPOINT_URL"),
            region=env.get("AWS_DEFAULT_REGION") or "us-east-1",
            root=(need("S3_ROOT_ACCESS_KEY"), need("S3_ROOT_SECRET_KEY")),
            buckets=buckets,
            users=users,
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


def bucket_policy(buckets: tuple[str, ...], actions: tuple[str, ...]) -> str:
    resources = [arn for bucket in buckets for arn in (f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*")]
    statement = {"Effect": "Allow", "Action": list(actions), "Resource": resources}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _chosen_key(access_key: str, secret_key: str) -> Callable[..., None]:
    """A botocore hook adding the key id and secret to CreateAccessKey (an extension AWS lacks)."""

    def add(params: dict[str, Any], **_: Any) -> None:
        params["body"]["AccessKeyId"] = access_key
        params["body"]["SecretAccessKey"] = secret_key

    return add


def key_works(target: Target, user: User) -> bool:
    try:
        target.client("s3", user.key).head_bucket(Bucket=user.buckets[0])
    except ClientError as error:
        if code(error) in BAD_KEY | DENIED:
            return False
        raise
    return True


def provision_user(target: Target, user: User) -> str | None:
    """The user, its policy and its key through the IAM API: "created", "replaced" or "kept";
    None when the server has no IAM API."""
    iam = target.client("iam", target.root)
    try:
        iam.create_user(UserName=user.name)
    except ClientError as error:
        if code(error) in NO_IAM:
            return None
        if code(error) != "EntityAlreadyExists":
            raise
    actions = READ_WRITE if user.writes else READ_ONLY
    iam.put_user_policy(
        UserName=user.name, PolicyName=POLICY_NAME, PolicyDocument=bucket_policy(user.buckets, actions)
    )
    access_key, secret_key = user.key
    keys = {k["AccessKeyId"] for k in iam.list_access_keys(UserName=user.name)["AccessKeyMetadata"]}
    action = "kept"
    if access_key in keys and not _retry(lambda: key_works(target, user), seconds=5):
        iam.delete_access_key(UserName=user.name, AccessKeyId=access_key)  # the secret changed
        keys.discard(access_key)
        action = "replaced"
    if access_key not in keys:
        iam.meta.events.register("before-call.iam.CreateAccessKey", _chosen_key(access_key, secret_key))
        try:
            created = iam.create_access_key(UserName=user.name)["AccessKey"]["AccessKeyId"]
        except ClientError as error:
            raise InitError(
                f"could not create the key {user.env}_ACCESS_KEY for {user.name}: {error}"
            ) from error
        if created != access_key:
            iam.delete_access_key(UserName=user.name, AccessKeyId=created)
            raise InitError(
                f"this server's IAM API makes up its own keys: put {user.env}_ACCESS_KEY and "
                f"{user.env}_SECRET_KEY in the server's configuration instead"
            )
        action = "created" if action == "kept" else action
    for stale in keys - {access_key}:
        iam.delete_access_key(UserName=user.name, AccessKeyId=stale)
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


def _succeeds(call: Callable[[], Any]) -> bool:
    try:
        call()
    except ClientError:
        return False
    return True


def _denied(call: Callable[[], Any]) -> bool:
    try:
        call()
    except ClientError as error:
        return code(error) in DENIED
    return False


def check_user(target: Target, user: User, limited: bool, settle: float = 5) -> list[str]:
    """Problems with a user's key: it uses its buckets as granted and, if `limited`, nothing more
    (each limit asked again for `settle` seconds: a narrowed policy reaches the gateway late)."""
    s3, root = target.client("s3", user.key), target.client("s3", target.root)
    who = f"{user.env}_ACCESS_KEY ({user.name})"
    problems = []
    for bucket in user.buckets:
        if user.writes:

            def round_trip(bucket: str = bucket) -> None:
                s3.put_object(Bucket=bucket, Key=PROBE_KEY, Body=b"s3-init")
                s3.get_object(Bucket=bucket, Key=PROBE_KEY)["Body"].read()
                s3.delete_object(Bucket=bucket, Key=PROBE_KEY)

            if not _retry(lambda: _succeeds(round_trip), seconds=15):
                problems.append(f"{who} cannot read and write bucket {bucket}")
            continue

        def read(bucket: str = bucket) -> None:
            s3.list_objects_v2(Bucket=bucket, Prefix=PROBE_KEY)
            s3.get_object(Bucket=bucket, Key=PROBE_KEY)["Body"].read()

        def write(bucket: str = bucket) -> None:
            s3.put_object(Bucket=bucket, Key=PROBE_KEY, Body=b"written by a read-only key")

        root.put_object(Bucket=bucket, Key=PROBE_KEY, Body=b"s3-init")  # something to read
        try:
            if not _retry(lambda: _succeeds(read), seconds=15):
                problems.append(f"{who} cannot read bucket {bucket}")
            if limited and not _retry(lambda: _denied(write), seconds=settle):
                problems.append(f"{who} can write bucket {bucket}: it must only read")
        finally:
            root.delete_object(Bucket=bucket, Key=PROBE_KEY)
    if not limited:
        return problems
    for bucket in sorted(set(target.buckets) - set(user.buckets)):
        if not _retry(
            lambda bucket=bucket: _denied(lambda: s3.list_objects_v2(Bucket=bucket)), seconds=settle
        ):
            problems.append(f"{who} can read bucket {bucket}, which is not one of its own")
    probe = f"s3-init-probe-{uuid.uuid4().hex[:12]}"
    try:
        s3.create_bucket(Bucket=probe)
    except ClientError as error:
        if code(error) not in DENIED:
            problems.append(f"creating a bucket with {who} failed oddly: {error}")
    else:
        root.delete_bucket(Bucket=probe)
        problems.append(f"{who} can create buckets: it is not limited to its own")
    return problems


def main(env: dict[str, str] | None = None) -> int:
    env = dict(os.environ if env is None else env)
    try:
        target = Target.from_env(env)
        wait_for_server(target, timeout=float(env.get("S3_INIT_TIMEOUT_SECONDS", "60")))
        created = ensure_buckets(target)
        print(f"buckets {', '.join(target.buckets)} ready (created: {', '.join(created) or 'none'})")
        problems = []
        for user in target.users:
            action = provision_user(target, user)
            if action is None:
                print(f"{target.endpoint} has no IAM API: its own configuration holds {user.env}_ACCESS_KEY")
            else:
                print(f"user {user.name}: key {user.key[0]} {action}, {user.grant}")
            problems += check_user(target, user, limited=action is not None)
    except InitError as error:
        print(f"s3-init: {error}", file=sys.stderr)
        return 1
    for problem in problems:
        print(f"s3-init: {problem}", file=sys.stderr)
    if problems:
        return 1
    print("each key reaches its buckets as granted and nothing else")
    return 0


if __name__ == "__main__":
    sys.exit(main())
