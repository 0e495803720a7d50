"""Blocking asset checks of the monthly tables: one check per asset, one verdict per run, the
failing months named with their problems."""

import dagster as dg

SCHEMA_CHECK = "schema"


def schema_check(asset: str, what: str) -> dg.AssetCheckSpec:
    """The Pandera schema of `asset`, blocking: a failing partition stops what depends on it."""
    return dg.AssetCheckSpec(SCHEMA_CHECK, asset=asset, blocking=True, description=what)


def schema_result(problems: dict[str, str], partitions: list[str]) -> dg.AssetCheckResult:
    """The verdict of a run over `partitions`, from `validate_by_month`'s problems per month."""
    lines = [f"**{key}**: {problem}" for key, problem in sorted(problems.items())]
    return dg.AssetCheckResult(
        passed=not problems,
        metadata={
            "partitions_checked": len(partitions),
            "failing_partitions": sorted(problems),
            "problems": dg.MetadataValue.md("\n\n".join(lines) or "none"),
        },
        description="; ".join(
            f"{key}: {problem.splitlines()[0]}" for key, problem in sorted(problems.items())
        )
        or None,
    )
