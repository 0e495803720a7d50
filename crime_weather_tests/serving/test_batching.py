"""Micro-batching: concurrent callers share model calls, and each gets exactly its own row's answer."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from crime_weather_tests.serving.conftest import random_observations
from serving.batching import MicroBatcher
from serving.model_store import ModelStore
from serving.predict import predict_rows
from serving.structs.requests import Observation


def test_each_caller_gets_its_own_rows_answer_identical_to_an_unbatched_call(champion_v1: ModelStore):
    champion = champion_v1.champion
    observations = random_observations(200)
    unbatched = [predict_rows(champion, [observation])[0] for observation in observations]
    calls: list[int] = []

    async def run(key, items: Sequence[Observation]) -> list[float]:
        calls.append(len(items))
        return await asyncio.to_thread(predict_rows, key, items)

    async def main() -> list[float]:
        batcher = MicroBatcher(run, max_wait_s=0.002, max_rows=64)
        try:
            return await asyncio.gather(*(batcher.submit(champion, obs) for obs in observations))
        finally:
            await batcher.close()

    batched = asyncio.run(main())
    assert batched == unbatched  # exactly, row by row
    assert len(calls) < len(observations) / 4 and max(calls) <= 64 and sum(calls) == len(observations)


def test_callers_on_different_models_are_never_mixed_in_one_call():
    seen: list[tuple[str, list[int]]] = []

    async def run(key: str, items: Sequence[int]) -> list[float]:
        seen.append((key, list(items)))
        await asyncio.sleep(0.001)
        return [float(item) * (1 if key == "v1" else -1) for item in items]

    async def main() -> list[float]:
        batcher = MicroBatcher(run, max_wait_s=0.001, max_rows=8)
        try:
            return await asyncio.gather(*(batcher.submit("v1" if i % 3 else "v2", i) for i in range(60)))
        finally:
            await batcher.close()

    results = asyncio.run(main())
    assert results == [float(i) * (1 if i % 3 else -1) for i in range(60)]
    assert all(len(items) <= 8 for _, items in seen)
    assert all(all((i % 3 != 0) == (key == "v1") for i in items) for key, items in seen)


def test_a_lone_caller_does_not_wait_for_company():
    sizes: list[int] = []

    async def run(key: str, items: Sequence[int]) -> list[float]:
        sizes.append(len(items))
        return [0.0] * len(items)

    async def main() -> float:
        batcher = MicroBatcher(run, max_wait_s=5.0, max_rows=8)  # a wait would show as a 5 s test
        try:
            loop = asyncio.get_running_loop()
            start = loop.time()
            for i in range(20):
                await batcher.submit("v1", i)
            return loop.time() - start
        finally:
            await batcher.close()

    elapsed = asyncio.run(main())
    assert sizes == [1] * 20 and elapsed < 2.0


def test_a_failing_call_fails_all_its_callers_and_the_next_calls_still_run():
    async def run(key: str, items: Sequence[int]) -> list[float]:
        if 13 in items:
            raise ValueError("model failed")
        return [float(item) for item in items]

    async def main() -> list[object]:
        batcher = MicroBatcher(run, max_wait_s=0.001, max_rows=4)
        try:
            first = await asyncio.gather(
                *(batcher.submit("v1", i) for i in range(12, 16)), return_exceptions=True
            )
            second = await batcher.submit("v1", 7)
            return [*first, second]
        finally:
            await batcher.close()

    results = asyncio.run(main())
    assert all(isinstance(result, ValueError) for result in results[:4])
    assert results[4] == 7.0


@pytest.mark.parametrize("size", [1, 7, 1000])
def test_the_frame_matches_trainings_model_input(champion_v1: ModelStore, size: int):
    import pandas as pd

    from crime_weather.modeling.estimation.pipeline import model_input
    from serving.predict import observations_frame

    observations = random_observations(size, seed=size)
    frame = observations_frame(observations)
    records = [{name: getattr(o, name) for name in o.__struct_fields__} for o in observations]
    pd.testing.assert_frame_equal(frame, model_input(pd.DataFrame(records)))


def test_after_a_shared_call_the_next_waits_for_about_as_many_callers():
    calls: list[list[str]] = []
    release = asyncio.Event()

    async def run(key: str, items: Sequence[str]) -> list[float]:
        calls.append(list(items))
        await release.wait()
        return [0.0] * len(items)

    async def settle() -> None:
        for _ in range(5):
            await asyncio.sleep(0)

    async def main() -> None:
        batcher = MicroBatcher(run, max_wait_s=5.0, max_rows=64)
        try:
            first = asyncio.create_task(batcher.submit("v1", "a"))
            await settle()  # "a" alone is in the model; eight arrive meanwhile
            crowd = [asyncio.create_task(batcher.submit("v1", f"b{i}")) for i in range(8)]
            await settle()
            release.set()
            await asyncio.gather(first, *crowd)
            # The last call served 8: about 2 (0.8 x 1 + 0.2 x 8) are now expected, so the next call
            # waits for a second caller instead of going alone (a 5 s wait would end it anyway).
            lone = asyncio.create_task(batcher.submit("v1", "c1"))
            await settle()
            assert calls[-1] != ["c1"]
            await asyncio.gather(lone, batcher.submit("v1", "c2"))
        finally:
            await batcher.close()

    asyncio.run(main())
    assert calls == [["a"], [f"b{i}" for i in range(8)], ["c1", "c2"]]
