"""What a change in the landing zone means: new months and the ingest runs to request.

Pure logic, so the sensor stays thin and every rule here is tested without Dagster; it names no asset
and knows no cursor format (orchestration/sensors/landing.py maps a plan to assets and keeps the
cursor):
- a crime file is run for the months it wins (it is the most recently landed file covering them);
- a weather file is run for the known months it covers that no crime run already refreshes;
- a removed crime file hands its months to the next newest file that covers them;
- unreadable files are reported, never retried until they change;
- a new or changed forecast file issues a forecast (never an ingest: it is not observed weather);
- a weather change skips months whose crime data was refused: they are rebuilt, weather included,
  when a corrected crime file lands.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass, field

from crime_weather.sources.catalog import (
    CRIME,
    FORECAST,
    REJECTED,
    SKIPPED,
    WEATHER,
    LandingFile,
    crime_winners,
)


@dataclass(frozen=True)
class PlannedRun:
    """An ingest run over `months`. `rebuilds`: what changed, CRIME (the months' crime, weather and
    features are rebuilt) or WEATHER (their weather and features); the sensor maps it to assets."""

    run_key: str
    months: tuple[str, ...]
    rebuilds: str
    reason: str


@dataclass
class IngestPlan:
    new_months: list[str] = field(default_factory=list)
    runs: list[PlannedRun] = field(default_factory=list)
    rejected: list[LandingFile] = field(default_factory=list)
    skipped: list[LandingFile] = field(default_factory=list)
    forecasts: list[LandingFile] = field(default_factory=list)
    changed: list[LandingFile] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.changed or self.removed)


def _digest(parts: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(parts)).encode()).hexdigest()[:16]


def plan_ingest(
    previous: list[LandingFile],
    current: list[LandingFile],
    known_months: list[str],
    refused_months: Collection[str] = (),
) -> IngestPlan:
    """Compare the landing zone with what the sensor saw last time.

    `refused_months`: months whose crime data failed its check; weather runs leave them out.
    """
    seen = {(file.key, file.version) for file in previous}
    plan = IngestPlan(
        changed=[file for file in current if (file.key, file.version) not in seen],
        removed=sorted({file.key for file in previous} - {file.key for file in current}),
    )
    plan.rejected = [file for file in plan.changed if file.kind == REJECTED]
    plan.skipped = [file for file in plan.changed if file.kind == SKIPPED]
    plan.forecasts = [file for file in plan.changed if file.kind == FORECAST]
    winners = crime_winners(current)
    plan.new_months = sorted(set(winners) - set(known_months))

    plan.runs = _crime_runs(plan, winners)
    plan.runs += _handover_runs(plan, crime_winners(previous), winners, _months_of(plan.runs))
    refreshed = _months_of(plan.runs)
    weather = _weather_run(plan, previous, set(known_months) | set(winners), refreshed | set(refused_months))
    plan.runs += [weather] if weather else []
    return plan


def _months_of(runs: list[PlannedRun]) -> set[str]:
    return {month for run in runs for month in run.months}


def _crime_runs(plan: IngestPlan, winners: dict[str, LandingFile]) -> list[PlannedRun]:
    """Each changed crime file refreshes the months it now supplies."""
    changed = {file.key for file in plan.changed if file.kind == CRIME}
    runs = []
    for file in sorted({w for w in winners.values() if w.key in changed}, key=lambda f: f.key):
        won = tuple(sorted(month for month, winner in winners.items() if winner.key == file.key))
        reason = f"{file.key} ({file.layout}) supplies {len(won)} months"
        runs.append(PlannedRun(file.run_key, won, CRIME, reason))
    return runs


def _handover_runs(
    plan: IngestPlan,
    previous_winners: dict[str, LandingFile],
    winners: dict[str, LandingFile],
    refreshed: set[str],
) -> list[PlannedRun]:
    """The months a removed crime file supplied go to the newest remaining file covering them."""
    handed_over: dict[LandingFile, list[str]] = {}
    for month, old in previous_winners.items():
        new = winners.get(month)
        if old.key in plan.removed and new is not None and month not in refreshed:
            handed_over.setdefault(new, []).append(month)
    return [
        PlannedRun(
            f"{file.run_key}#after-removal-{_digest(plan.removed)}",
            tuple(sorted(file_months)),
            CRIME,
            f"{file.key} takes over after a removal",
        )
        for file, file_months in sorted(handed_over.items(), key=lambda item: item[0].key)
    ]


def _weather_run(
    plan: IngestPlan, previous: list[LandingFile], known: set[str], excluded: set[str]
) -> PlannedRun | None:
    """One run for every known month a changed or removed weather file touches, except `excluded`
    (months a crime run already rebuilds, or whose crime data was refused)."""
    changed = [file for file in plan.changed if file.kind == WEATHER]
    removed = [file for file in previous if file.key in plan.removed and file.kind == WEATHER]
    touched = {month for file in [*changed, *removed] for month in file.months}
    months = tuple(sorted((touched & known) - excluded))
    if not months:
        return None
    keys = [file.run_key for file in changed] + [f"-{file.run_key}" for file in removed]
    names = ", ".join(file.key for file in [*changed, *removed])
    return PlannedRun(f"weather@{_digest(keys)}", months, WEATHER, f"weather changed: {names}")


def contiguous_segments(order: list[str], wanted: tuple[str, ...]) -> list[tuple[str, str]]:
    """Split `wanted` into (first, last) ranges that are contiguous in the partitions' order.

    Dynamic partitions keep insertion order; a run over a key range covers everything in between,
    so a range must never span keys that were not asked for.
    """
    position = {key: index for index, key in enumerate(order)}
    indices = sorted(position[key] for key in wanted if key in position)
    segments: list[tuple[str, str]] = []
    start = previous = None
    for index in indices:
        if start is None:
            start = previous = index
        elif index == previous + 1:
            previous = index
        else:
            segments.append((order[start], order[previous]))
            start = previous = index
    if start is not None:
        segments.append((order[start], order[previous]))
    return segments
