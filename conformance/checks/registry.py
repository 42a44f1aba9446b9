"""The one place checks are registered, each traced to the requirement IDs it verifies.

One decorator, `check`, typed by kind (mypy refuses a function whose signature does not fit):

- a **response** check runs on every response the run receives and judges it alone:
  `def check_x(ctx: ResponseContext) -> bool | None` — `None` when the rule does not apply to this
  response, `True` when it holds; it raises `CheckFailed` when it is broken.
- a **scenario** check drives its own calls to verify a rule that spans several:
  `def check_y(ctx: ScenarioContext) -> None` — it reports through `ctx.check(...)`,
  `ctx.not_applicable(...)`; `ctx.blocked(...)` when the target broke a precondition.
- a **traffic** generator is a scenario that only sends requests so that the response checks can
  judge them (real resources, provoked refusals). It names the requirements it feeds, so it runs
  when they are selected, but it verifies none: it never counts as the check of a requirement and
  cannot report a verdict.
- a **builtin** is one of Schemathesis' own checks `(ctx, response, case)`, run by Schemathesis on
  its cases (`checks/builtin.py` registers them here, so coverage is counted in one place).

Built-in and user-added checks use the same decorator:

    @check("P2-PRO-003", kind="response")
    def check_location_on_create(ctx: ResponseContext) -> bool | None: ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from conformance.contract.catalog import RequirementCatalog

if TYPE_CHECKING:
    from conformance.checks.context import ResponseContext, ScenarioContext

Kind = Literal["response", "scenario", "traffic", "builtin"]
KINDS: tuple[Kind, ...] = ("response", "scenario", "traffic", "builtin")
ResponseFunc = Callable[["ResponseContext"], bool | None]
ScenarioFunc = Callable[["ScenarioContext"], None]
BuiltinFunc = Callable[[Any, Any, Any], Any]  # Schemathesis' (check context, response, case)
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


@dataclass(frozen=True, kw_only=True)
class CheckSpec:
    """What every registered check has: its name, kind and the requirement IDs it is about."""

    name: str
    func: Callable[..., Any] = field(repr=False)  # each kind narrows it to its own signature
    requirements: tuple[str, ...]  # a traffic generator's: the ones it feeds (selection only)
    kind: Kind
    description: str = ""

    @property
    def verifies(self) -> tuple[str, ...]:
        """The requirements this check can pass or fail: none for a traffic generator."""
        return () if self.kind == "traffic" else self.requirements


@dataclass(frozen=True, kw_only=True)
class ResponseCheck(CheckSpec):
    func: ResponseFunc = field(repr=False)

    def __call__(self, ctx: ResponseContext) -> bool | None:
        return self.func(ctx)


@dataclass(frozen=True, kw_only=True)
class ScenarioCheck(CheckSpec):
    """A scenario check or a traffic generator: one work item of the run each."""

    func: ScenarioFunc = field(repr=False)
    needs: frozenset[str] = field(default_factory=frozenset)
    # Runs alone: it reads or changes process-wide state of the target (metric counters, readiness,
    # the event stream's tail, rate limits, revoked tokens) that concurrent items would disturb.
    exclusive: bool = False
    # An exclusive scenario that needs the target to itself only while it writes (a pagination
    # walk's items): it calls `checks.lanes.share_the_target` then, and only reads (and cleans up)
    # afterwards, so other items, the next such scenario included, may run beside the rest of it.
    shares_after_writing: bool = False
    # What it costs beside one operation's contract item (= 1), when it is far from the usual
    # scenario's (`runner.plan.SCENARIO_COST`): the executor starts the longest items first and
    # the shards are balanced by it, so a scenario much longer than the others says so.
    cost: float | None = None

    def __call__(self, ctx: ScenarioContext) -> None:
        self.func(ctx)


@dataclass(frozen=True, kw_only=True)
class BuiltinCheck(CheckSpec):
    func: BuiltinFunc = field(repr=False)


AnySpec = TypeVar("AnySpec", bound=CheckSpec)


class Registry:
    def __init__(self) -> None:
        self._checks: dict[str, CheckSpec] = {}

    def add(self, spec: CheckSpec) -> None:
        existing = self._checks.get(spec.name)
        if existing is not None and (existing.kind, existing.func) != (spec.kind, spec.func):
            raise ValueError(f"a check named {spec.name!r} is already registered")
        self._checks[spec.name] = spec

    def __iter__(self) -> Iterator[CheckSpec]:
        return iter(self._checks.values())

    def __len__(self) -> int:
        return len(self._checks)

    def get(self, name: str) -> CheckSpec:
        return self._checks[name]

    def _of_type(self, of: type[AnySpec]) -> tuple[AnySpec, ...]:
        return tuple(spec for spec in self._checks.values() if isinstance(spec, of))

    def responses(self) -> tuple[ResponseCheck, ...]:
        """The checks run on every response."""
        return self._of_type(ResponseCheck)

    def scenarios(self) -> tuple[ScenarioCheck, ...]:
        """Every scenario the run plans as a work item: scenario checks and traffic generators."""
        return self._of_type(ScenarioCheck)

    def builtins(self) -> tuple[BuiltinCheck, ...]:
        return self._of_type(BuiltinCheck)

    def checks_of(self, requirement_id: str) -> tuple[CheckSpec, ...]:
        """The checks that verify `requirement_id` (traffic generators feed it, they do not verify it)."""
        return tuple(spec for spec in self._checks.values() if requirement_id in spec.verifies)

    def traffic_for(self, requirement_id: str) -> tuple[ScenarioCheck, ...]:
        """The traffic generators that feed the checks of `requirement_id`."""
        return tuple(
            spec for spec in self.scenarios() if spec.kind == "traffic" and requirement_id in spec.requirements
        )

    def requirement_ids(self) -> frozenset[str]:
        """The requirements some check verifies."""
        return frozenset(rid for spec in self._checks.values() for rid in spec.verifies)

    def census(self) -> str:
        """How many checks of each kind, traffic generators counted apart (they verify nothing)."""
        counts = {kind: sum(1 for spec in self._checks.values() if spec.kind == kind) for kind in KINDS}
        return (
            f"{len(self) - counts['traffic']} checks ({counts['response']} response, {counts['scenario']} scenario, "
            f"{counts['builtin']} Schemathesis built-in) verify {len(self.requirement_ids())} requirements; "
            f"{counts['traffic']} traffic generators feed the response checks and verify none"
        )

    def validate(self, catalog: RequirementCatalog) -> list[str]:
        """Problems with the registry against the catalog: unknown IDs, requirements without a check."""
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


@overload
def check(
    *requirements: str,
    kind: Literal["response"],
    name: str | None = None,
    description: str | None = None,
    registry: Registry = REGISTRY,
) -> Callable[[ResponseFunc], ResponseCheck]: ...


@overload
def check(
    *requirements: str,
    kind: Literal["scenario", "traffic"],
    needs: tuple[str, ...] = (),
    exclusive: bool = False,
    shares_after_writing: bool = False,
    cost: float | None = None,
    name: str | None = None,
    description: str | None = None,
    registry: Registry = REGISTRY,
) -> Callable[[ScenarioFunc], ScenarioCheck]: ...


@overload
def check(
    *requirements: str,
    kind: Literal["builtin"],
    name: str | None = None,
    description: str | None = None,
    registry: Registry = REGISTRY,
) -> Callable[[BuiltinFunc], BuiltinCheck]: ...


def check(
    *requirements: str,
    kind: Kind,
    needs: tuple[str, ...] = (),
    exclusive: bool = False,
    shares_after_writing: bool = False,
    cost: float | None = None,
    name: str | None = None,
    description: str | None = None,
    registry: Registry = REGISTRY,
) -> Callable[[Any], CheckSpec]:
    """Register a check verifying `requirements` (IDs of the requirement catalog).

    `exclusive=True` makes a scenario run alone, never beside other work items;
    `shares_after_writing=True` makes it alone only until it shares the target (see `ScenarioCheck`);
    `cost` is a scenario's cost beside one contract item, when far from the usual scenario's.
    `name` defaults to the function's name, `description` to the first line of its docstring."""
    if not requirements:
        raise ValueError("a check must name at least one requirement ID")
    if kind not in KINDS:
        raise ValueError(f"unknown kind of check {kind!r}; known: {', '.join(KINDS)}")
    if kind in ("response", "builtin") and (needs or exclusive or shares_after_writing or cost is not None):
        raise ValueError(f"needs, exclusive and cost are for scenarios; a {kind} check runs on every response")
    if cost is not None and not cost > 0:
        raise ValueError(f"a scenario's cost is a positive number, not {cost!r}")
    unknown_needs = set(needs) - NEEDS
    if unknown_needs:
        raise ValueError(f"unknown needs {sorted(unknown_needs)}; known: {sorted(NEEDS)}")

    def decorate(func: Any) -> CheckSpec:
        common: dict[str, Any] = {
            "name": name or func.__name__,
            "requirements": tuple(requirements),
            "kind": kind,
            "description": description if description is not None else (func.__doc__ or "").strip().split("\n")[0],
        }
        spec: CheckSpec
        if kind == "response":
            spec = ResponseCheck(func=func, **common)
        elif kind == "builtin":
            spec = BuiltinCheck(func=func, **common)
        else:
            spec = ScenarioCheck(
                func=func,
                needs=frozenset(needs),
                exclusive=exclusive or shares_after_writing,
                shares_after_writing=shares_after_writing,
                cost=cost,
                **common,
            )
        registry.add(spec)
        return spec

    return decorate
