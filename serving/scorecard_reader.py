"""The stored forecast_scorecard (GET /scorecard and the live_* gauges), read from the warehouse.

The platform writes one table per scored month (`<warehouse>/forecast_scorecard/<YYYY-MM>.parquet`,
crime_weather/orchestration/assets/scorecard.py); the API only reads them, through core.storage (a
folder or S3, as Settings say). A month changes at most when its counts land again, so what was read
is kept for `ttl` seconds before the folder is listed again, and only a file whose version changed is
read again. Each month is turned into response rows once, when read: a request filters a list.

/metrics never waits for the warehouse: it takes what was read last (`snapshot`) and, if that is
older than the TTL, has it read again in the background.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import pandas as pd

from crime_weather.core.names import NAIVE_COLUMNS, SCORECARD_TABLE
from crime_weather.core.settings import Settings
from crime_weather.core.storage import BlobStore, open_store, parquet_to_frame
from crime_weather.modeling.forecasting.grading import champion_rows
from serving.errors import Refused
from serving.structs.responses import ForecastScorecard, NaiveScore, ScorecardRow

NOTHING_SCORED = (
    "nothing has been scored yet: forecast_scorecard grades a month once its robberies land and a stored "
    "claim (a champion_outlook, made at each promotion, or a robbery_forecast issue) covers a day of it"
)


@dataclass(frozen=True)
class _Month:
    version: str
    table: pd.DataFrame
    rows: list[ScorecardRow]


@dataclass(frozen=True)
class Snapshot:
    """Every stored month as read at `at` (monotonic): tables, their rows, and the months stored."""

    at: float
    months: dict[str, _Month] = field(default_factory=dict)

    @cached_property
    def scored_months(self) -> list[str]:
        """The months holding at least one score (a month no claim covers is stored empty)."""
        return [month for month, stored in self.months.items() if stored.rows]

    @cached_property
    def table(self) -> pd.DataFrame:
        """Every stored month's scores in one table (the platform's columns)."""
        tables = [stored.table for stored in self.months.values() if len(stored.table)]
        return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()


class ScorecardReader:
    """The stored scorecard, listed again at most every `ttl` seconds, each file read once per version."""

    def __init__(self, store: BlobStore, ttl: float) -> None:
        self.store = store
        self.ttl = ttl
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()  # one reader of the warehouse at a time
        self._refreshing = False
        self._live: tuple[Snapshot, str, dict[int, pd.Series]] | None = None

    @classmethod
    def from_settings(cls, settings: Settings, ttl: float) -> ScorecardReader:
        return cls(open_store(settings.warehouse, settings.s3_endpoint_url), ttl)

    def fresh(self) -> Snapshot | None:
        """What was read, if read within the TTL (no I/O); else None."""
        snapshot = self._snapshot
        return snapshot if snapshot is not None and time.monotonic() - snapshot.at <= self.ttl else None

    def current(self) -> Snapshot:
        """What is stored, at most `ttl` seconds old. Blocks on the warehouse: call it off the loop.
        An unreadable warehouse raises only when nothing was read before: else the last read stays."""
        snapshot = self._snapshot
        if snapshot is not None and time.monotonic() - snapshot.at <= self.ttl:
            return snapshot
        with self._lock:
            snapshot = self._snapshot
            if snapshot is not None and time.monotonic() - snapshot.at <= self.ttl:
                return snapshot  # another thread read it while this one waited
            try:
                snapshot = self._read(snapshot)
            except Exception:
                if snapshot is None:
                    raise
                snapshot = replace(snapshot, at=time.monotonic())  # retried after the TTL
            self._snapshot = snapshot
            return snapshot

    def snapshot(self) -> Snapshot | None:
        """What was read last, without waiting; when it is stale (or nothing was read), a background
        thread reads the warehouse again for the next caller."""
        snapshot = self._snapshot
        stale = snapshot is None or time.monotonic() - snapshot.at > self.ttl
        if stale and not self._refreshing:
            self._refreshing = True
            threading.Thread(target=self._refresh, name="scorecard-refresh", daemon=True).start()
        return snapshot

    def live(self, version: str) -> dict[int, pd.Series]:
        """The champion `version`'s latest judged scores per horizon month, from what was read last
        (never waits). Judged as the checks judge (grading.champion_rows): outlook rows of a week or
        more, so the day or two an outlook reaches into a seventh month do not replace month 6."""
        snapshot = self.snapshot()
        if snapshot is None or not snapshot.scored_months:
            return {}
        cached = self._live
        if cached is None or cached[0] is not snapshot or cached[1] != version:  # once per read and version
            rows = champion_rows(snapshot.table, version)
            latest = rows.sort_values(["horizon", "month"]).groupby("horizon").tail(1)
            cached = (snapshot, version, {int(row["horizon"]): row for _, row in latest.iterrows()})
            self._live = cached
        return cached[2]

    def _refresh(self) -> None:
        try:
            self.current()
        except Exception:  # an unreachable warehouse: the gauges stay as they were, /scorecard says why
            pass
        finally:
            self._refreshing = False

    def _read(self, previous: Snapshot | None) -> Snapshot:
        known = previous.months if previous else {}
        months = {}
        listed = sorted(self.store.list(f"{SCORECARD_TABLE}/"), key=lambda info: info.key)
        for info in listed:
            if not info.key.endswith(".parquet"):
                continue
            month = info.key.rsplit("/", 1)[-1].removesuffix(".parquet")
            stored = known.get(month)
            if stored is None or stored.version != info.version:
                table = parquet_to_frame(self.store.read(info.key))
                stored = _Month(info.version, table, scorecard_rows(table))
            months[month] = stored
        snapshot = Snapshot(time.monotonic(), months)
        _ = snapshot.table  # concatenated here, off the event loop, not in a scrape
        return snapshot


def _number(value: Any) -> float | None:
    return None if value is None or value is pd.NA or math.isnan(value) else float(value)


def _naive(record: dict[str, Any]) -> dict[str, NaiveScore]:
    """The naive levels scored with the claim (outlooks only: none is issued with a forecast)."""
    scores = {}
    for name in NAIVE_COLUMNS:
        deviance, mae = _number(record[f"{name}_poisson_deviance"]), _number(record[f"{name}_mae"])
        if deviance is not None and mae is not None:
            scores[name] = NaiveScore(deviance, mae, _number(record[f"{name}_pred_over_obs"]))
    return scores


def scorecard_rows(table: pd.DataFrame) -> list[ScorecardRow]:
    """A stored month's table as response rows, in the table's order."""
    rows = []
    for record in table.to_dict("records"):
        best = record["best_naive"]
        rows.append(
            ScorecardRow(
                month=str(record["month"]),
                source=str(record["source"]),
                source_key=str(record["source_key"]),
                model_version=str(record["model_version"]),
                issued_at=record["issued_at"].to_pydatetime(),
                horizon_unit=str(record["horizon_unit"]),
                horizon=int(record["horizon"]),
                n=int(record["n"]),
                observed_robberies=float(record["observed_robberies"]),
                expected_robberies=float(record["expected_robberies"]),
                poisson_deviance=float(record["poisson_deviance"]),
                mae=float(record["mae"]),
                pred_over_obs=_number(record["pred_over_obs"]),
                coverage_80=float(record["coverage_80"]),
                coverage_95=float(record["coverage_95"]),
                naive=_naive(record),
                best_naive=None if best is None or best is pd.NA else str(best),
                best_naive_poisson_deviance=_number(record["best_naive_poisson_deviance"]),
            )
        )
    return rows


def scorecard_response(
    snapshot: Snapshot,
    serving_champion: str | None,
    *,
    month: str | None = None,
    version: str | None = None,
    horizon: int | None = None,
    source: str | None = None,
) -> ForecastScorecard:
    """The stored rows matching every filter given; Refused(404) when nothing (or not `month`) is scored."""
    scored = snapshot.scored_months
    if not scored:
        stored = list(snapshot.months)
        detail = NOTHING_SCORED
        if stored:
            detail += f" (stored months {', '.join(stored)} hold no score: no claim covers them)"
        raise Refused(404, detail, None, NOTHING_SCORED)
    if month is not None and month not in scored:
        reason = f"{month} is not scored"
        detail = f"{reason}: the scored months are {', '.join(scored)}"
        raise Refused(404, detail, "month", reason)
    months = [snapshot.months[month]] if month is not None else snapshot.months.values()
    rows = [
        row
        for stored in months
        for row in stored.rows
        if (version is None or row.model_version == version)
        and (horizon is None or row.horizon == horizon)
        and (source is None or row.source == source)
    ]
    return ForecastScorecard(scored_months=scored, serving_champion=serving_champion, rows=rows)
