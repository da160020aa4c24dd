"""Group commit: queued requests share statements, clashing ones wait, failures stay contained."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from storage.batching import GroupCommit
from storage.errors import StorageUnavailable


class FakeDatabase:
    """Answers each item with its doubled value after a short wait, recording every batch."""

    def __init__(self, *, refuse: int | None = None, down: bool = False) -> None:
        self.batches: list[list[tuple[str, int]]] = []
        self.refuse = refuse
        self.down = down
        self.running = 0
        self.most_running = 0

    async def run(self, items: Sequence[tuple[str, int]]) -> list[int]:
        self.batches.append(list(items))
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            await asyncio.sleep(0.01)
            if self.down:
                raise StorageUnavailable("connection refused")
            if self.refuse is not None and any(value == self.refuse for _, value in items):
                raise ValueError("the database refused one row")
            return [value * 2 for _, value in items]
        finally:
            self.running -= 1


def by_case(item: tuple[str, int]) -> tuple[str]:
    return (item[0],)


async def test_a_lone_request_goes_at_once_in_a_batch_of_its_own() -> None:
    db = FakeDatabase()
    group = GroupCommit(db.run, keys=by_case)
    assert await group.submit(("A", 1)) == 2
    assert db.batches == [[("A", 1)]]


async def test_requests_arriving_while_the_database_is_busy_share_statements() -> None:
    db = FakeDatabase()
    group = GroupCommit(db.run, keys=by_case, max_batch=64, max_inflight=2)
    results = await asyncio.gather(*(group.submit((f"C{n}", n)) for n in range(100)))
    assert results == [n * 2 for n in range(100)]
    assert sum(len(batch) for batch in db.batches) == 100
    assert len(db.batches) <= 4  # two go alone, the rest queue behind them
    assert db.most_running <= 2


async def test_batches_never_exceed_the_maximum_size() -> None:
    db = FakeDatabase()
    group = GroupCommit(db.run, keys=by_case, max_batch=10, max_inflight=1)
    await asyncio.gather(*(group.submit((f"C{n}", n)) for n in range(45)))
    assert max(len(batch) for batch in db.batches) == 10
    assert db.most_running == 1


async def test_clashing_keys_never_share_a_batch_and_keep_their_order() -> None:
    db = FakeDatabase()
    group = GroupCommit(db.run, keys=by_case, max_inflight=1)
    items = [("A", 1), ("B", 2), ("A", 3), ("A", 4), ("C", 5)]
    results = await asyncio.gather(*(group.submit(item) for item in items))
    assert results == [2, 4, 6, 8, 10]
    for batch in db.batches:
        cases = [case for case, _ in batch]
        assert len(cases) == len(set(cases))
    order_of_a = [value for batch in db.batches for case, value in batch if case == "A"]
    assert order_of_a == [1, 3, 4]


async def test_one_refused_item_fails_alone_and_the_others_are_stored() -> None:
    db = FakeDatabase(refuse=7)
    group = GroupCommit(db.run, keys=by_case, max_inflight=1)
    outcomes = await asyncio.gather(
        *(group.submit((f"C{n}", n)) for n in range(12)), return_exceptions=True
    )
    assert isinstance(outcomes[7], ValueError)
    assert [o for i, o in enumerate(outcomes) if i != 7] == [n * 2 for n in range(12) if n != 7]


async def test_an_unavailable_database_fails_the_whole_batch_without_retrying() -> None:
    db = FakeDatabase(down=True)
    group = GroupCommit(db.run, keys=by_case, max_inflight=1)
    outcomes = await asyncio.gather(
        *(group.submit((f"C{n}", n)) for n in range(5)), return_exceptions=True
    )
    assert all(isinstance(o, StorageUnavailable) for o in outcomes)
    assert sum(len(batch) for batch in db.batches) == 5  # each item tried once


async def test_a_request_cancelled_while_queued_is_not_sent() -> None:
    db = FakeDatabase()
    group = GroupCommit(db.run, keys=by_case, max_inflight=1)
    first = asyncio.create_task(group.submit(("A", 1)))
    await asyncio.sleep(0)
    waiting = asyncio.create_task(group.submit(("B", 2)))
    await asyncio.sleep(0)
    waiting.cancel()
    assert await first == 2
    await group.drain()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert [("B", 2)] not in db.batches
