"""Real resources for the response checks to judge.

The protocol rules on representations (Location, ETag, RFC 3339 timestamps, enumerations,
Retry-After) are judged by response checks on whatever the run receives. Fuzzing rarely reaches
an existing world or runtime, so these scenarios create some and read them through every
operation that returns them; the response checks record the verdicts.
"""

from __future__ import annotations

from conformance.checks.context import ScenarioContext
from conformance.checks.registry import check
from conformance.classes.contract.contract_scenarios import largest_plugin
from conformance.classes.shared.outage_window import OutageWindow
from conformance.classes.shared.resources import create_world, observe_until, start_runtime
from conformance.client.api_client import NO_TOKEN
from conformance.client.observed import ObservedResponse


@check("P2-PRO-003", "P2-PRO-004", "P2-PRO-007", "P2-PRO-008", kind="traffic")
def check_representations_of_real_resources(ctx: ScenarioContext) -> None:
    """Create, read, update and list a world and a runtime through every operation returning them."""
    world_id = create_world(ctx)["id"]
    read = ctx.require(ctx.api.call("getWorld", path={"world_id": world_id}), {200}, "read the world")
    etag = read.headers.get("etag", "*")
    ctx.api.call("updateWorld", path={"world_id": world_id}, headers={"If-Match": etag}, json={"labels": {"tier": "a"}})
    ctx.api.call("listWorlds", query={"limit": 5})
    runtime_id = start_runtime(ctx, world_id, largest_plugin(ctx))["id"]
    # Polling reads the runtime in every status it passes through, each judged by the response checks
    # (not again when runtimes were shown not to reach running: a failing run is not a slower one).
    observe_until(ctx, runtime_id, "running")
    ctx.api.call("listRuntimes", query={"world_id": world_id})
    ctx.api.call("stopRuntime", path={"runtime_id": runtime_id})
    observe_until(ctx, runtime_id, "stopped")
    ctx.api.call("listEvents", query={"subject": f"worlds/{world_id}"})


@check("P2-PRO-012", kind="traffic", needs=("outage",), exclusive=True)
def check_unavailable_answers(ctx: ScenarioContext) -> None:
    """With a component taken away, operations answer 503, which the response checks judge."""
    window = OutageWindow(ctx)
    window.open()
    answers: list[ObservedResponse] = []

    def call_both() -> ObservedResponse:
        answers.extend([ctx.api.call("listWorlds"), ctx.api.call("getReadiness")])
        return max(answers[-2:], key=lambda answer: answer.status == 503)

    window.until(call_both, lambda answer: answer.status == 503)
    window.close()
    if not any(answer.status == 503 for answer in answers):
        ctx.blocked(f"no operation answered 503 while {window.outage.description} had taken a component away")


@check("P2-PRO-005", kind="traffic")
def check_refusals_carry_challenges(ctx: ScenarioContext) -> None:
    """Provoke 401s of every kind (no token, garbage, a JWT-shaped forgery, bad client) for the response checks."""
    for token in (NO_TOKEN, "not-a-token", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."):
        ctx.api.call("listWorlds", token=token, negative=True)
    ctx.api.call("login", json={"client_id": "nobody", "client_secret": "nothing"}, negative=True)
