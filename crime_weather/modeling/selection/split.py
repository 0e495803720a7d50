"""The temporal split: the last `test_months` months present are the test set, the rest is training.

Never random: a random split leaks a champion's training rows into later test sets.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd


@dataclass
class TemporalSplit:
    train: pd.DataFrame
    test: pd.DataFrame
    train_months: list[str]
    test_months: list[str]


def temporal_split(frames: Mapping[str, pd.DataFrame], test_months: int) -> TemporalSplit:
    """Split monthly frames: test = the last `test_months` months, train = every month before."""
    months = sorted(frames)
    if len(months) <= test_months:
        raise ValueError(
            f"{len(months)} months of data ({', '.join(months) or 'none'}): need more than test_months={test_months} "
            "to keep at least one month for training"
        )
    train_keys, test_keys = months[:-test_months], months[-test_months:]

    def stack(keys: list[str]) -> pd.DataFrame:
        frame = pd.concat([frames[key] for key in keys], ignore_index=True)
        return frame.sort_values(["date", "comuna"], kind="stable").reset_index(drop=True)

    return TemporalSplit(stack(train_keys), stack(test_keys), train_keys, test_keys)


def fingerprint(frame: pd.DataFrame) -> str:
    """A stable hash of a table's content: tags a model version with exactly the data it saw."""
    hashed = pd.util.hash_pandas_object(frame.reset_index(drop=True), index=True).to_numpy()
    return hashlib.sha256(hashed.tobytes() + ",".join(frame.columns).encode()).hexdigest()[:16]
