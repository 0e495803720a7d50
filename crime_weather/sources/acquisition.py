"""Bring files from CRIME_WEATHER_SOURCE into the landing zone: official URLs or a local mirror.

Only files not yet in the landing zone are fetched, and each lands whole or not at all (the store
writes through a temporary name). What a user put in the landing zone is never touched. Downloads
report their progress and are tried again with backoff (sources/download.py); the report says what
failed and why.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from crime_weather.core.settings import (
    OFFICIAL_SOURCE,
    AcquisitionOptions,
    AcquisitionSettings,
    StorageSettings,
)
from crime_weather.core.storage import BlobStore, LocalStore, is_visible, open_store
from crime_weather.sources.download import (
    LogProgress,
    PermanentError,
    Progress,
    Retry,
    TransientError,
    describe,
    download,
)
from crime_weather.sources.official import COMUNAS_URL, crime_urls, open_meteo_url

log = logging.getLogger("crime_weather.acquisition")
_TIMEOUT = httpx.Timeout(30.0, read=300.0)


@dataclass(frozen=True)
class RemoteFile:
    """A file the source offers: its landing name and where to get it (URLs tried in order)."""

    name: str
    locations: tuple[str, ...]


@dataclass
class AcquisitionReport:
    fetched: list[str] = field(default_factory=list)
    already_present: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def all_failed(self) -> bool:
        """Something was to be fetched and nothing came: the exit status says so (compose `ps -a`)."""
        return bool(self.failed) and not self.fetched

    def summary(self) -> str:
        text = f"{len(self.fetched)} fetched, {len(self.already_present)} already in landing"
        if self.failed:
            text += f", {len(self.failed)} failed: " + "; ".join(f"{k}: {v}" for k, v in self.failed.items())
        return text


def official_files(settings: AcquisitionOptions, today: dt.date | None = None) -> list[RemoteFile]:
    """BA Data crime CSVs and Open-Meteo archive years (only complete past years), and the comunas."""
    this_year = (today or dt.date.today()).year
    years = [year for year in settings.crime_years if year < this_year]
    files = [
        RemoteFile(f"delitos_{year}.csv", crime_urls(year, settings.crime_url_template)) for year in years
    ]
    files += [
        RemoteFile(f"open_meteo_caba_daily_{year}.json", (open_meteo_url(settings.open_meteo_url, year),))
        for year in years
    ]
    files.append(RemoteFile("comunas.geojson", (settings.comunas_url or COMUNAS_URL,)))
    return files


def mirror_files(folder: Path) -> list[RemoteFile]:
    """Every visible file of a local mirror folder, under its relative name."""
    if not folder.is_dir():
        raise FileNotFoundError(f"CRIME_WEATHER_SOURCE {folder} is not a folder")
    return [
        RemoteFile(path.relative_to(folder).as_posix(), (str(path),))
        for path in sorted(folder.rglob("*"))
        if path.is_file() and is_visible(path.relative_to(folder).as_posix())
    ]


def source_files(settings: AcquisitionOptions) -> list[RemoteFile]:
    if settings.source == OFFICIAL_SOURCE:
        return official_files(settings)
    if settings.source in ("", "none"):
        return []
    return mirror_files(Path(settings.source).expanduser())


def fetch(
    remote: RemoteFile, client: httpx.Client, progress: Progress | None = None, retry: Retry | None = None
) -> bytes:
    """The file's bytes from the first location that answers, each attempt trying every location;
    another attempt (after a backoff) only while some failure may pass. Errors name every location."""
    retry = retry or Retry()
    progress = progress or LogProgress(log)
    for attempt in range(1, retry.attempts + 1):
        errors, transient = [], False
        for location in remote.locations:
            try:
                if location.startswith(("http://", "https://")):
                    return download(location, client, remote.name, progress)
                return Path(location).read_bytes()
            except TransientError as error:
                errors.append(str(error))
                transient = True
            except PermanentError as error:
                errors.append(str(error))
            except OSError as error:
                errors.append(f"{location}: {error}")
        if not transient or attempt == retry.attempts:
            break
        delay = retry.delay(attempt)
        log.warning(
            "%s: attempt %d of %d failed (%s); trying again in %.1f s",
            *(remote.name, attempt, retry.attempts, "; ".join(errors), delay),
        )
        retry.sleep(delay)
    raise OSError(f"{'; '.join(errors)} (after {attempt} attempt{'s' if attempt > 1 else ''})")


def acquire(
    files: list[RemoteFile],
    landing: BlobStore,
    progress: Progress | None = None,
    retry: Retry | None = None,
) -> AcquisitionReport:
    """Copy into the landing zone every source file it does not hold yet."""
    report = AcquisitionReport()
    present = {info.key for info in landing.list()}
    progress = progress or LogProgress(log)
    with httpx.Client(timeout=_TIMEOUT, follow_redirects=True) as client:
        for remote in files:
            if remote.name in present:
                report.already_present.append(remote.name)
                continue
            started = time.monotonic()
            try:
                data = fetch(remote, client, progress, retry)
            except OSError as error:
                report.failed[remote.name] = str(error)
                log.warning("could not fetch %s: %s", remote.name, error)
                continue
            landing.write(remote.name, data)
            report.fetched.append(remote.name)
            log.info(
                "landed %s (%s)", remote.name, describe(len(data), len(data), time.monotonic() - started)
            )
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fetch new source files into the landing zone.")
    parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    storage, settings = StorageSettings(), AcquisitionSettings()
    landing = open_store(storage.landing, storage.s3_endpoint_url)
    if isinstance(landing, LocalStore):
        landing.root.mkdir(parents=True, exist_ok=True)
    report = acquire(source_files(settings), landing)
    print(f"acquisition from {settings.source}: {report.summary()}")
    return 1 if report.all_failed else 0


if __name__ == "__main__":
    sys.exit(main())
