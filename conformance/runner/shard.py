"""`--shard I/N`: one deterministic, cost-balanced part of a run's plan, for a CI machine of N.

The CI system's matrix is the distributed engine; the suite ships none. Every shard builds the
same plan from the same settings and contract, then keeps its part: items are dealt, longest
first (ties by key), to the shard with the least cost so far. Each shard writes its reports and a
`shard.json` (its recorder's raw verdicts, see `runner.merge`); `phase2-conformance merge` turns
the shards' directories into one set of reports with one verdict.
"""

from __future__ import annotations

from conformance.runner.plan import Plan, build_plan
from conformance.settings import Settings
from conformance.shards import Shard


def plan_for(settings: Settings) -> tuple[Plan, Plan]:
    """The run's whole plan and the part this shard runs (the same without a shard), built once
    from the settings, the contract and the registered scenario checks (the user's modules too)."""
    from conformance.checks import load_checks
    from conformance.checks.registry import REGISTRY
    from conformance.contract import load_catalog, load_contract
    from conformance.smoke import SMOKE

    load_checks(settings.check_modules, read_only=settings.profile.name == SMOKE)
    whole = build_plan(settings, load_contract(), load_catalog(), REGISTRY.scenarios())
    return whole, shard_plan(whole, settings.shard)


def shard_plan(plan: Plan, shard: Shard | None) -> Plan:
    """The part of `plan` that `shard` runs, in the plan's order; the whole plan without a shard."""
    if shard is None or shard.total == 1:
        return plan
    loads = [0.0] * shard.total
    mine: set[str] = set()
    for item in sorted(plan, key=lambda work: (-work.cost, work.key)):
        lightest = min(range(shard.total), key=lambda number: (loads[number], number))
        loads[lightest] += item.cost
        if lightest == shard.index - 1:
            mine.add(item.key)
    return Plan(tuple(item for item in plan if item.key in mine))


def requirements_elsewhere(plan: Plan, part: Plan) -> frozenset[str]:
    """Requirements some other shard's items evaluate: one this shard did not reach is not its gap
    (the merge decides their status, from every shard's verdicts)."""
    mine = {item.key for item in part}
    return frozenset(rid for item in plan if item.key not in mine for rid in item.requirements)
