"""What the benchmarks share: a champion to serve, the API process and whether it serves one, wrk, resident memory."""

from __future__ import annotations

import argparse
import atexit
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from crime_weather.core.names import WEATHER_BOUNDS
from harness.processes import Server, api_server, free_port, wait_http

# Run as `python benchmarks/serving.py`, this folder comes first on sys.path and `serving` would be that
# script, not the API package: the project (installed editable) goes first, this folder after it.
_HERE = str(Path(__file__).resolve().parent)
if sys.path and sys.path[0] == _HERE:
    sys.path.append(sys.path.pop(0))

ROOT = Path(__file__).resolve().parents[1]

# An existing registry whose `crime_weather@champion` is served instead of a synthetic one.
TRACKING_URI_ENV = "CRIME_WEATHER_BENCH_TRACKING_URI"

ROW = {"date": "2019-03-24", "comuna": 3, "temp_mean": 21.5, "temp_max": 26.0, "precipitation_mm": 0.4}

# wrk prints its own report; this adds one machine-readable line with exact percentiles.
_REPORT = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'RESULT {"requests": %d, "seconds": %.3f, "p50_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, '
    .. '"errors": %d, "non_2xx": %d, "timeouts": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(99) / 1e3,
    latency.max / 1e3, errors, summary.errors.status, summary.errors.timeout))
end
"""


def champion_served(api: str) -> str | None:
    try:
        response = httpx.get(f"{api}/model", timeout=2)
    except httpx.HTTPError:
        return None
    return response.json()["version"] if response.status_code == 200 else None


def random_rows(count: int, seed: int) -> list[dict]:
    """Observations as clients send them: dates 2019-01..09 (inside the evidence of both the synthetic
    and the shared data's champion: the API refuses dates beyond it), every comuna, 30 % of weather absent."""
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        row = {"date": f"2019-{rng.randint(1, 9):02d}-{rng.randint(1, 28):02d}"}
        row["comuna"] = rng.randint(1, 15)
        for name, (low, high) in WEATHER_BOUNDS.items():
            if rng.random() < 0.7:
                row[name] = round(rng.uniform(low, high), 1)
        rows.append(row)
    return rows


def temp_folder(prefix: str) -> Path:
    """A temp folder removed when the benchmark exits."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


CHAMPIONS = ("hgb", "glm", "synthetic")


def champion_registry(champion: str, max_iter: int) -> tuple[str, str]:
    """(tracking URI, what it is): the given registry, or a temp sqlite one holding `champion`:
    the platform's default HistGradientBoosting or GLM configuration fitted on all the shared data
    (what `make run` serves), or a synthetic HistGradientBoosting of `max_iter` trees."""
    if uri := os.environ.get(TRACKING_URI_ENV):
        return uri, f"the champion of {uri}"
    import pandas as pd

    from crime_weather.modeling.estimation.config import DEFAULT_GLM, DEFAULT_HGB
    from harness.models import register_fitted, register_model, tracking_uri
    from harness.shared_data import SHARED_RAW, daily_features

    uri = tracking_uri(temp_folder("crime-weather-bench-"))
    if champion == "synthetic" or not SHARED_RAW.is_dir():
        register_model(uri, max_iter=max_iter, seed=3)
        return uri, f"a synthetic HistGradientBoosting Poisson pipeline, {max_iter} trees, in {uri}"
    config = DEFAULT_HGB if champion == "hgb" else DEFAULT_GLM
    data = pd.concat(daily_features(SHARED_RAW).values(), ignore_index=True)
    register_fitted(uri, config, data, seed=3)
    return uri, f"{config.label} fitted on the shared data ({len(data):,} rows), in {uri}"


def add_champion_arguments(parser: argparse.ArgumentParser) -> None:
    """--champion and --max-iter, as every API benchmark takes them (see `champion_from`)."""
    parser.add_argument(
        "--champion",
        choices=CHAMPIONS,
        default="hgb",
        help="the platform's default HGB or GLM, or a synthetic one",
    )
    parser.add_argument("--max-iter", type=int, default=200, help="trees of the synthetic champion")


def champion_from(args: argparse.Namespace) -> str:
    """The tracking URI holding the champion the arguments name; says which one it is."""
    uri, what = champion_registry(args.champion, args.max_iter)
    print(f"champion: {what}")
    return uri


def model_call_costs(uri: str) -> dict[str, float]:
    """Median seconds of one pipeline.predict call for 1 and 1,000 rows, as the API runs it."""
    import statistics

    import pandas as pd
    import threadpoolctl

    from crime_weather.modeling.estimation.pipeline import model_input
    from serving.model_store import ModelStore

    store = ModelStore(uri, "crime_weather")
    if not store.refresh():
        raise SystemExit(f"no champion at {uri}: {store.problem}")
    costs = {}
    with threadpoolctl.threadpool_limits(1, user_api="openmp"):
        for rows in (1, 1000):
            frame = model_input(pd.DataFrame([ROW] * rows))
            store.champion.pipeline.predict(frame)
            times = []
            for _ in range(30):
                start = time.perf_counter()
                store.champion.pipeline.predict(frame)
                times.append(time.perf_counter() - start)
            costs[f"{rows} row{'s' if rows > 1 else ''}"] = statistics.median(times)
    return costs


def wait_ready(server: Server, ready_url: str, what: str) -> None:
    """Wait until `ready_url` answers; otherwise stop the server and exit with the end of its log."""
    try:
        wait_http(ready_url, timeout=180)
    except TimeoutError:
        server.stop()
        raise SystemExit(f"{what} did not become ready:\n{server.tail()}") from None


def start_api(uri: str, folder: Path, **settings: str) -> tuple[Server, str]:
    port = free_port()
    api = api_server(uri, port, folder / "api.log", **settings).start()
    url = f"http://127.0.0.1:{port}"
    wait_ready(api, f"{url}/health", "the API")
    return api, url


def ensure_wrk() -> str:
    """wrk's path, installing the Debian package when it is missing (the benchmarks run as root)."""
    if path := shutil.which("wrk"):
        return path
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print("installing wrk with apt-get ...", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "wrk"], check=True, env=env)
    return shutil.which("wrk") or "wrk"


@dataclass
class Load:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    non_2xx: int
    timeouts: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def wrk(url: str, script_body: str, *, connections: int, seconds: int, threads: int = 2) -> Load:
    """Run wrk against `url` with a Lua script (its request setup + our report)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(script_body + _REPORT)
    try:
        result = subprocess.run(
            [
                ensure_wrk(),
                f"-t{threads}",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "5s",
                "-s",
                script.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        os.unlink(script.name)
    line = next(line for line in result.stdout.splitlines() if line.startswith("RESULT "))
    return Load(**json.loads(line.removeprefix("RESULT ")))


def post_script(body: dict) -> str:
    return (
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(json.dumps(body))}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
    )


def rss_mb(pid: int) -> tuple[float, float]:
    """(resident, peak resident) memory of a process in MB, from /proc."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024
