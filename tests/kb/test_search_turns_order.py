"""Search turns are handed out in the order they were asked for (kb/search/caches.py, Turns)."""

from __future__ import annotations

import threading
import time

from kb.search.caches import Turns


def _wait_in_line(turns: Turns, name: str, order: list[str]) -> threading.Thread:
    """A thread that asks for a turn now and notes its name once it has one."""

    def ask() -> None:
        with turns.turn() as got:
            assert got
            order.append(name)

    thread = threading.Thread(target=ask)
    thread.start()
    time.sleep(0.2)  # it is waiting before anyone else asks
    return thread


def test_a_freed_turn_goes_to_the_waiting_thread_not_to_one_asking_just_after():
    turns = Turns(1, wait=30.0)
    order: list[str] = []
    with turns.turn() as got:
        assert got
        waiter = _wait_in_line(turns, "waiter", order)
    # Asked right after the release, while the waiter has not run yet: it must queue behind.
    with turns.turn() as got:
        assert got
        order.append("asked after")
    waiter.join(timeout=30)
    assert order == ["waiter", "asked after"]


def test_waiters_get_their_turns_in_the_order_they_asked():
    turns = Turns(1, wait=30.0)
    order: list[str] = []
    with turns.turn():
        threads = [_wait_in_line(turns, name, order) for name in "abcde"]
    for thread in threads:
        thread.join(timeout=30)
    assert order == list("abcde")
