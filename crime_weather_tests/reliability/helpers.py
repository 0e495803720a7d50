"""What the fault tests share: dropping files the way a user does, and reading what the platform did.

Everything here reads the real Dagster instance, MLflow server and process table of a running
`Platform` (crime_weather_tests/platform.py); nothing is mocked.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import dagster as dg
import yaml

from crime_weather.orchestration.jobs import FILE_TAG, STAGE_TAG
from crime_weather.runtime.run_launcher import EXITED_STATES, stat_fields
from crime_weather_tests.platform import Platform, wait_for
from harness.processes import ROOT, wait_http

RUN_KEY_TAG = "dagster/run_key"
PARENT_RUN_TAG = "dagster/parent_run_id"
RETRY_NUMBER_TAG = "dagster/retry_number"
FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


# --- the platform ---------------------------------------------------------------------------------
def fast_dagster_yaml(folder: Path) -> Path:
    """The repository's dagster.yaml with the run queue looked at every second instead of every 5 s:
    a latency knob, like the harness's fast sensor intervals. Launcher, monitoring, retries and
    concurrency limits stay the ones `make run` uses."""
    config = yaml.safe_load((ROOT / "dagster.yaml").read_text(encoding="utf-8"))
    config["run_coordinator"]["config"]["dequeue_interval_seconds"] = 1
    path = folder / "dagster.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def start(platform: Platform, *, webserver: bool = False, api: bool = True) -> Platform:
    """Platform.start(), with every process started at once: the daemon and the API do not need
    MLflow to start (the API waits for the registry on its own), so nobody waits for anybody.
    The instance's storage is created first, here: two processes creating it at once race."""
    platform.instance()
    platform.mlflow.start()
    platform.daemon.start()
    if api:
        platform.api.start()
    if webserver:
        platform.webserver.start()
    wait_http(f"{platform.tracking_uri}/health", timeout=90)
    if webserver:
        wait_http(f"http://127.0.0.1:{platform.web_port}/server_info", timeout=120)
    return platform


def sensor_has_ticked(instance: dg.DagsterInstance, since: float, timeout: float = 120) -> Any:
    """The newest finished landing_sensor tick after `since` (e.g. once a restarted daemon looked)."""

    def finished() -> Any:
        ticks = [
            tick
            for tick in sensor_ticks(instance)
            if tick.timestamp > since and tick.status.value != "STARTED"
        ]
        return ticks[0] if ticks else None

    return wait_for(finished, timeout, "a landing_sensor tick", every=0.5)


def assert_loopback_only(platform: Platform, servers: Iterable[str], ports: Iterable[int]) -> None:
    """Every TCP socket the servers' process groups listen on is on loopback, and `ports` are among them."""
    pids = [pid for name in servers for pid in group_members(getattr(platform, name).pid)]
    listening = listening_addresses(pids)
    assert set(ports) <= {port for _, port in listening}, listening
    exposed = {(address, port) for address, port in listening if address not in ("127.0.0.1", "::1")}
    assert not exposed, f"listening beyond loopback: {exposed}"


# --- the landing zone -----------------------------------------------------------------------------
def drop(landing: Path, name: str, data: bytes) -> Path:
    """Put a file in the landing zone atomically (as a finished upload appears), landed now."""
    return drop_many(landing, {name: data})[0]


def drop_many(landing: Path, files: dict[str, bytes]) -> list[Path]:
    """Land files in the order given, each atomically and strictly after the one before (the most
    recently landed file wins a month), written first and renamed in quick succession."""
    staged = []
    for name, data in files.items():
        partial = landing / f".{name}.part"  # hidden: the platform never reads it
        partial.write_bytes(data)
        staged.append((partial, landing / name))
    stamp = max((p.stat().st_mtime for p in landing.iterdir() if p.is_file()), default=0.0)
    for partial, target in staged:
        stamp = max(time.time(), stamp + 0.01)
        os.utime(partial, (stamp, stamp))
        partial.replace(target)
    return [target for _, target in staged]


# --- runs -----------------------------------------------------------------------------------------
def runs(instance: dg.DagsterInstance, **tags: str) -> list[dg.DagsterRun]:
    """Runs carrying all of `tags` (oldest first)."""
    records = instance.get_run_records(filters=dg.RunsFilter(tags=tags) if tags else None)
    return [record.dagster_run for record in sorted(records, key=lambda record: record.create_timestamp)]


def runs_for_file(instance: dg.DagsterInstance, key: str) -> list[dg.DagsterRun]:
    """Every run the landing sensor started for `key` (any version), retries included."""
    return [
        run for run in runs(instance) if run.tags.get(FILE_TAG, "").split("@", 1)[0] == key.split("@", 1)[0]
    ]


def train_runs(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    """Retrains launched by the automation (tagged like every retrain of retrain_on_new_features)."""
    return runs(instance, **{STAGE_TAG: "train"})


def wait_finished(
    instance: dg.DagsterInstance,
    select: Callable[[], list[dg.DagsterRun]],
    count: int,
    timeout: float,
    what: str,
) -> list[dg.DagsterRun]:
    """Wait until `select()` returns at least `count` runs, all finished; return them refreshed."""

    def done() -> list[dg.DagsterRun] | None:
        found = select()  # read fresh from the instance
        if len(found) >= count and all(run.status in FINISHED for run in found):
            return found
        return None

    return wait_for(done, timeout, what, every=0.5)


def wait_quiet(instance: dg.DagsterInstance, seconds: float, timeout: float = 120) -> None:
    """Wait until no run is queued or running and none has ended in the last `seconds` seconds:
    long enough for the sensors to have looked at the result and acted (or not)."""

    def quiet() -> bool:
        records = instance.get_run_records()
        if any(record.dagster_run.status not in FINISHED for record in records):
            return False
        last_end = max((record.end_time or 0.0 for record in records), default=0.0)
        return time.time() - last_end >= seconds

    wait_for(quiet, timeout, f"no run for {seconds:.0f} s", every=0.5)


def failure_text(instance: dg.DagsterInstance, run_id: str) -> str:
    """Every failure message of a run: step failures (with their user-facing description) and the
    run's own failure (e.g. from run monitoring)."""
    texts = []
    for entry in instance.all_logs(
        run_id, of_type={dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.RUN_FAILURE}
    ):
        event = entry.dagster_event
        if event is None:
            continue
        texts.append(event.message or "")
        data = event.event_specific_data
        failure = getattr(data, "user_failure_data", None)
        if failure is not None:
            texts.append(failure.description or "")
        error = getattr(data, "error", None)
        if error is not None:
            texts.append(error.message)
    return "\n".join(texts)


def log_messages(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    return [entry.user_message for entry in instance.all_logs(run_id)]


# --- assets ---------------------------------------------------------------------------------------
def materialized(instance: dg.DagsterInstance, asset: str) -> set[str]:
    return set(instance.get_materialized_partitions(dg.AssetKey(asset)))


def materializations(instance: dg.DagsterInstance, asset: str, partition: str | None = None) -> list[Any]:
    """Materializations of an asset (one partition, or all), newest first."""
    records_filter = dg.AssetRecordsFilter(
        asset_key=dg.AssetKey(asset), asset_partitions=[partition] if partition else None
    )
    return [
        record.asset_materialization
        for record in instance.fetch_materializations(records_filter, limit=1000).records
    ]


def latest_metadata(instance: dg.DagsterInstance, asset: str, partition: str | None = None) -> dict[str, Any]:
    found = materializations(instance, asset, partition)
    assert found, f"{asset} {partition or ''} was never materialized"
    return {key: value.value for key, value in found[0].metadata.items()}


def check_evaluations(instance: dg.DagsterInstance, run_id: str) -> list[Any]:
    return [
        entry.dagster_event.event_specific_data
        for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
        if entry.dagster_event is not None
    ]


def sensor_cursor(instance: dg.DagsterInstance, name: str = "landing_sensor") -> str | None:
    """The cursor the daemon stored for a sensor."""
    states = [state for state in instance.all_instigator_state() if state.name == name]
    assert len(states) == 1, f"{name}: {len(states)} stored states"
    data = states[0].instigator_data
    return getattr(data, "cursor", None)


def sensor_ticks(instance: dg.DagsterInstance, name: str = "landing_sensor") -> list[Any]:
    """The sensor's ticks, newest first."""
    (state,) = [state for state in instance.all_instigator_state() if state.name == name]
    return list(instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=50))


# --- processes ------------------------------------------------------------------------------------
def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of a process group."""
    members = []
    for entry in Path("/proc").iterdir():
        fields = stat_fields(int(entry.name)) if entry.name.isdigit() else None
        if fields is not None and int(fields[2]) == pgid and fields[0] not in EXITED_STATES:
            members.append(int(entry.name))
    return members


def end_group(pgid: int, timeout: float = 60) -> None:
    """Wait for what is left of a process group we started to finish, then kill the rest."""
    with contextlib.suppress(TimeoutError):
        wait_for(lambda: not group_members(pgid), timeout, f"process group {pgid} gone", every=0.5)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def kill_main_process(platform: Platform, server_name: str) -> int:
    """SIGKILL one server's main process only (its children keep running); returns its group."""
    server = getattr(platform, server_name)
    pgid = server.pid
    os.kill(pgid, signal.SIGKILL)
    server.process.wait(timeout=30)
    server.process = None  # the harness would otherwise signal the survivors on stop()
    return pgid


def kill_group(platform: Platform, server_name: str) -> None:
    """SIGKILL a server's whole process group: the process and every child it started."""
    server = getattr(platform, server_name)
    os.killpg(server.pid, signal.SIGKILL)
    server.process.wait(timeout=30)
    server.process = None


def listening_addresses(pids: Iterable[int]) -> set[tuple[str, int]]:
    """(address, port) of every TCP socket in LISTEN state owned by `pids` (Linux /proc)."""
    inodes: set[str] = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
    found = set()
    for table, width in (("/proc/net/tcp", 4), ("/proc/net/tcp6", 16)):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state != "0A" or inode not in inodes:  # 0A: LISTEN
                    continue
                address, port = local.split(":")
                found.add((_address(address, width), int(port, 16)))
    return found


def _address(hex_address: str, width: int) -> str:
    import ipaddress

    raw = bytes.fromhex(hex_address)
    # /proc prints each 32-bit word in host (little-endian) order.
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return str(ipaddress.ip_address(words if width == 16 else words[:4]))
