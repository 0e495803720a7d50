"""Adaptive micro-batching: concurrent single predictions share one model call.

A model call costs about the same for 1 row as for 100 (the pipeline's fixed overhead dominates), so
under concurrency the API answers many callers per call. One consumer task runs calls one after the
other; what arrives during a call forms the next batch. After a call that served several callers,
the next one waits up to `max_wait` for about as many to gather; with one caller at a time it never
waits, so a lone request pays no batching latency.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Key = TypeVar("Key")
Item = TypeVar("Item")
Result = TypeVar("Result")

# (key, items) -> one result per item. Items of one call share a key (e.g. the model they started on).
BatchFunction = Callable[[Key, Sequence[Item]], Awaitable[Sequence[Result]]]


class MicroBatcher(Generic[Key, Item, Result]):
    def __init__(self, run: BatchFunction[Key, Item, Result], *, max_wait_s: float, max_rows: int) -> None:
        self._run = run
        self._max_wait_s = max_wait_s
        self._max_rows = max_rows
        self._pending: list[tuple[Key, Item, asyncio.Future[Result]]] = []
        self._arrived = asyncio.Event()
        self._expected = 1.0  # moving average of callers per call
        self._task: asyncio.Task[None] | None = None
        # While the consumer gathers: resolved when `_target` callers are pending (or by a timer).
        self._enough: asyncio.Future[None] | None = None
        self._target = 0
        self.calls = 0
        self.rows = 0

    async def submit(self, key: Key, item: Item) -> Result:
        """The result for this caller's item, computed in a call it shares with concurrent callers."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._consume(), name="micro-batcher")
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._pending.append((key, item, future))
        self._arrived.set()
        if self._enough is not None and len(self._pending) >= self._target and not self._enough.done():
            self._enough.set_result(None)
        return await future

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for _, _, future in self._pending:
            future.cancel()
        self._pending.clear()

    async def _consume(self) -> None:
        while True:
            await self._arrived.wait()
            await self._gather_more()
            batch = self._take()
            if not self._pending:
                self._arrived.clear()
            if not batch:
                continue
            key = batch[0][0]
            self.calls += 1
            self.rows += len(batch)
            self._expected = 0.8 * self._expected + 0.2 * len(batch)
            try:
                results = await self._run(key, [item for _, item, _ in batch])
            except Exception as error:
                for _, _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            for (_, _, future), result in zip(batch, results, strict=True):
                if not future.done():  # the caller may have gone (client disconnect)
                    future.set_result(result)

    async def _gather_more(self) -> None:
        """Wait (bounded) for the callers that recent calls suggest are on their way.

        One future and one timer per model call, resolved by the arrival that completes the batch:
        not a wait per arrival (asyncio.wait_for makes a task each time, ~20 µs, per request).
        """
        target = min(self._max_rows, round(self._expected))
        if self._max_wait_s <= 0 or target <= 1 or len(self._pending) >= target:
            return
        loop = asyncio.get_running_loop()
        self._enough, self._target = loop.create_future(), target
        timer = loop.call_later(self._max_wait_s, _resolve, self._enough)
        try:
            await self._enough
        finally:
            timer.cancel()
            self._enough = None

    def _take(self) -> list[tuple[Key, Item, asyncio.Future[Result]]]:
        """The oldest callers that share the first one's key, up to max_rows, in arrival order."""
        if not self._pending:
            return []
        key = self._pending[0][0]
        batch, rest = [], []
        for entry in self._pending:
            if entry[0] is key and len(batch) < self._max_rows and not entry[2].done():
                batch.append(entry)
            elif not entry[2].done():
                rest.append(entry)
        self._pending = rest
        return batch


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
