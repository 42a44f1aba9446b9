"""The named profiles: each deeper one pushes harder, and the release gate does not flap."""

from __future__ import annotations

import itertools

from conformance.profiles import DEFAULT_PROFILE, PROFILES

PHASES = {"examples", "coverage", "fuzzing", "stateful"}
DEPTH = ("smoke", "quick", "standard", "nightly")


def test_the_profiles_and_the_default() -> None:
    assert tuple(PROFILES) == DEPTH
    assert DEFAULT_PROFILE == "standard"
    assert all(name == profile.name for name, profile in PROFILES.items())


def test_each_deeper_profile_pushes_at_least_as_hard() -> None:
    for shallower, deeper in itertools.pairwise(DEPTH):
        low, high = PROFILES[shallower], PROFILES[deeper]
        for field in ("max_examples", "stateful_examples", "time_budget", "walk_size", "liveness_samples"):
            assert getattr(low, field) <= getattr(high, field), (shallower, deeper, field)
        assert set(low.phases) <= set(high.phases)


def test_phases_are_schemathesis_phases_and_stateful_depth_goes_with_its_phase() -> None:
    for profile in PROFILES.values():
        assert set(profile.phases) <= PHASES
        assert ("stateful" in profile.phases) == (profile.stateful_examples > 0 and profile.stateful_steps > 0)
        assert profile.request_timeout < profile.time_budget
        assert profile.runtime_timeout <= profile.time_budget


def test_only_the_nightly_run_draws_a_new_seed_each_time() -> None:
    assert [name for name, profile in PROFILES.items() if not profile.deterministic_seed] == ["nightly"]


def test_smoke_is_one_example_per_operation_and_walks_nothing() -> None:
    smoke = PROFILES["smoke"]
    assert (smoke.phases, smoke.max_examples, smoke.walk_size) == (("examples",), 1, 0)
