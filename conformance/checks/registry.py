"""The one place checks are registered, each traced to the requirement IDs it verifies.

Two kinds share one decorator:

- a **response** check runs on every response the run receives and judges it alone:
  `def check_x(ctx: ResponseContext) -> bool | None` — `None` when the rule does not apply to this
  response, `True` when it holds; it raises `CheckFailed` when it is broken.
- a **scenario** check drives its own calls to verify a rule that spans several:
  `def check_y(ctx: ScenarioContext) -> None` — it reports through `ctx.check(...)`,
  `ctx.not_applicable(...)`; `ctx.blocked(...)` when the target broke a precondition.

Built-in and user-added checks use the same decorator:

    @check("P2-PRO-003", kind="response")
    def check_location_on_create(ctx): ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from conformance.contract.catalog import RequirementCatalog

Kind = Literal["response", "scenario", "builtin"]  # builtin: a Schemathesis check, run by Schemathesis
# What a scenario needs from the run; it is reported not-applicable (with the reason) when absent.
NEEDS = frozenset({"other-tenant", "read-only", "test-issuer", "otlp", "controls", "outage"})


class CheckFailed(AssertionError):
    """A response broke the rule its check verifies."""

    def __init__(
        self,
        title: str,
        message: str = "",
        requirement_id: str | None = None,
        *,
        expected: str | None = None,
        actual: str | None = None,
        expected_status: tuple[int, ...] = (),
    ) -> None:
        super().__init__(title)
        self.title = title
        self.message = message or title
        self.requirement_id = requirement_id
        # The failure in one line ("answered 204" against "401"), when the check knows both.
        self.expected = expected
        self.actual = actual
        self.expected_status = expected_status  # set when the rule is the status alone


@dataclass(frozen=True)
class CheckSpec:
    name: str
    func: Callable[[Any], Any] = field(repr=False)
    requirements: tuple[str, ...]
    kind: Kind
    needs: frozenset[str] = field(default_factory=frozenset)
    description: str = ""
    # Runs alone: it reads or changes process-wide state of the target (metric counters, readiness,
    # the event stream's tail, rate limits, revoked tokens) that concurrent items would disturb.
    exclusive: bool = False
    # An exclusive scenario that needs the target to itself only while it writes (a pagination
    # walk's items): it calls `checks.lanes.share_the_target` then, and only reads (and cleans up)
    # afterwards, so other items, the next such scenario included, may run beside the rest of it.
    shares_after_writing: bool = False

    def __call__(self, ctx: Any) -> Any:
        return self.func(ctx)


class Registry:
    def __init__(self) -> None:
        self._checks: dict[str, CheckSpec] = {}

    def add(self, spec: CheckSpec) -> None:
        existing = self._checks.get(spec.name)
        if existing is not None and existing.func is not spec.func:
            raise ValueError(f"a check named {spec.name!r} is already registered")
        self._checks[spec.name] = spec

    def __iter__(self) -> Iterator[CheckSpec]:
        return iter(self._checks.values())

    def __len__(self) -> int:
        return len(self._checks)

    def get(self, name: str) -> CheckSpec:
        return self._checks[name]

    def of_kind(self, kind: Kind) -> tuple[CheckSpec, ...]:
        return tuple(spec for spec in self._checks.values() if spec.kind == kind)

    def requirement_ids(self) -> frozenset[str]:
        return frozenset(rid for spec in self._checks.values() for rid in spec.requirements)

    def validate(self, catalog: RequirementCatalog) -> list[str]:
        """Problems with the registry against the catalog: unknown IDs, MUSTs without a check."""
        problems = []
        for spec in self._checks.values():
            for requirement_id in spec.requirements:
                if requirement_id not in catalog:
                    problems.append(f"check {spec.name} names unknown requirement {requirement_id}")
        covered = self.requirement_ids()
        for requirement in catalog:
            if requirement.id not in covered:
                problems.append(f"{requirement.level} requirement {requirement.id} has no check")
        return problems


REGISTRY = Registry()


def check(
    *requirements: str,
    kind: Kind,
    needs: tuple[str, ...] = (),
    exclusive: bool = False,
    shares_after_writing: bool = False,
    registry: Registry = REGISTRY,
) -> Callable[[Callable[[Any], Any]], CheckSpec]:
    """Register a check verifying `requirements` (IDs of the requirement catalog).

    `exclusive=True` makes a scenario run alone, never beside other work items;
    `shares_after_writing=True` makes it alone only until it shares the target (see `CheckSpec`)."""
    if not requirements:
        raise ValueError("a check must name at least one requirement ID")
    unknown_needs = set(needs) - NEEDS
    if unknown_needs:
        raise ValueError(f"unknown needs {sorted(unknown_needs)}; known: {sorted(NEEDS)}")

    def decorate(func: Callable[[Any], Any]) -> CheckSpec:
        spec = CheckSpec(
            name=func.__name__,
            func=func,
            requirements=tuple(requirements),
            kind=kind,
            needs=frozenset(needs),
            description=(func.__doc__ or "").strip().split("\n")[0],
            exclusive=exclusive or shares_after_writing,
            shares_after_writing=shares_after_writing,
        )
        registry.add(spec)
        return spec

    return decorate
