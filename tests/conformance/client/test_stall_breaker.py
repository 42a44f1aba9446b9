"""The stall breaker: routes that time out repeatedly are refused at once, then probed."""

from __future__ import annotations

from conformance.client.stall_breaker import STALLS_TO_OPEN, StallBreaker, route_of

WORLD = "http://127.0.0.1:8080/v2/worlds/0190c0de-0000-7000-8000-000000000001"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_ids_are_folded_into_one_route() -> None:
    assert route_of(WORLD) == "/v2/worlds/{id}"
    assert route_of("http://h/v2/worlds/0190c0de-0000-7000-8000-0000000000ff?x=1") == "/v2/worlds/{id}"
    assert route_of("http://h/v2/events/42") == "/v2/events/{id}"
    assert route_of("http://h/v2/engine/plugins/sandbox") == "/v2/engine/plugins/sandbox"


def test_opens_after_consecutive_stalls_only() -> None:
    opened: list[str] = []
    breaker = StallBreaker(2.0, on_open=lambda route, why: opened.append(route), clock=Clock())
    breaker.stalled(WORLD)
    breaker.answered(WORLD)  # an answer in between: the count starts again
    for _ in range(STALLS_TO_OPEN - 1):
        breaker.stalled(WORLD)
    assert breaker.refusal(WORLD) is None and not opened
    breaker.stalled(WORLD)
    reason = breaker.refusal(WORLD)
    assert reason is not None and "/v2/worlds/{id}" in reason and "2s" in reason
    assert opened == ["/v2/worlds/{id}"]
    # Other routes are not affected.
    assert breaker.refusal("http://127.0.0.1:8080/v2/worlds") is None
    assert breaker.open_routes() == ["/v2/worlds/{id}"]


def test_an_open_route_is_probed_and_closes_when_it_answers() -> None:
    clock = Clock()
    opened: list[str] = []
    breaker = StallBreaker(2.0, on_open=lambda route, why: opened.append(route), clock=clock)
    for _ in range(STALLS_TO_OPEN):
        breaker.stalled(WORLD)
    assert breaker.refusal(WORLD) is not None
    clock.now += breaker.probe_interval
    assert breaker.refusal(WORLD) is None, "one probe goes through"
    assert breaker.refusal(WORLD) is not None, "the others wait for it"
    breaker.stalled(WORLD)  # the probe stalled too: still open, and not announced twice
    assert breaker.refusal(WORLD) is not None and opened == ["/v2/worlds/{id}"]
    clock.now += breaker.probe_interval
    assert breaker.refusal(WORLD) is None
    breaker.answered(WORLD)
    assert breaker.refusal(WORLD) is None and breaker.open_routes() == []
