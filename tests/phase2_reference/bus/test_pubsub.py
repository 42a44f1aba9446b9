"""The event bus: wake-ups across threads, time-outs and closing."""

from __future__ import annotations

import asyncio
import threading
import time

from phase2_reference.bus.pubsub import EventBus


def test_publish_from_another_thread_wakes_a_waiter() -> None:
    bus = EventBus()

    async def main() -> bool:
        timer = threading.Timer(0.05, bus.publish)
        timer.start()
        woke = await bus.wait(5)
        timer.join()
        return woke

    started = time.monotonic()
    assert asyncio.run(main()) is True
    assert time.monotonic() - started < 2
    assert bus.subscribers == 0


def test_wait_times_out_and_a_closed_bus_does_not_wait() -> None:
    bus = EventBus()
    assert asyncio.run(bus.wait(0.05)) is False
    bus.close()
    assert bus.closed
    assert asyncio.run(bus.wait(5)) is False
