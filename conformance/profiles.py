"""Named run profiles: how hard a run pushes, and how long it may take."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    phases: tuple[str, ...]  # Schemathesis phases for the contract class
    max_examples: int  # fuzzing examples per operation and mode
    stateful_examples: int  # stateful scenarios (0 = no stateful phase)
    stateful_steps: int
    time_budget: float  # seconds for the whole run
    request_timeout: float  # seconds for one request, start to last byte
    walk_size: int  # items a pagination walk creates
    liveness_samples: int
    runtime_timeout: float  # seconds a runtime may take to reach running or stopped
    deterministic_seed: bool  # without --seed, use a fixed seed (a release gate must not flap)


PROFILES: dict[str, Profile] = {
    profile.name: profile
    for profile in (
        Profile(
            name="smoke",
            description="safe against production: GET/HEAD, health and metrics only, no writes, "
            "no forged tokens, a hard cap of seconds (conformance/smoke.py)",
            phases=("examples",),
            max_examples=1,
            stateful_examples=0,
            stateful_steps=0,
            time_budget=30.0,
            request_timeout=5.0,
            walk_size=0,
            liveness_samples=10,
            runtime_timeout=5.0,
            deterministic_seed=True,
        ),
        Profile(
            name="quick",
            description="smoke test in seconds: examples and a little fuzzing, every class",
            phases=("examples", "fuzzing"),
            max_examples=3,
            stateful_examples=0,
            stateful_steps=0,
            time_budget=120.0,
            request_timeout=5.0,
            walk_size=5,
            liveness_samples=20,
            runtime_timeout=10.0,
            deterministic_seed=True,
        ),
        Profile(
            name="standard",
            description="the release gate: examples, coverage, fuzzing and stateful sequences",
            phases=("examples", "coverage", "fuzzing", "stateful"),
            max_examples=20,
            stateful_examples=8,
            stateful_steps=6,
            time_budget=600.0,
            request_timeout=10.0,
            walk_size=23,
            liveness_samples=50,
            runtime_timeout=30.0,
            deterministic_seed=True,
        ),
        Profile(
            name="nightly",
            description="deep run: far more examples and stateful sequences, bounded by --time-budget",
            phases=("examples", "coverage", "fuzzing", "stateful"),
            max_examples=400,
            stateful_examples=150,
            stateful_steps=12,
            time_budget=3600.0,
            request_timeout=15.0,
            walk_size=120,
            liveness_samples=200,
            runtime_timeout=60.0,
            deterministic_seed=False,
        ),
    )
}

DEFAULT_PROFILE = "standard"
DEFAULT_SEED = 20261126
