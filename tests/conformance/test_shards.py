"""Which shard this process is: `I/N` as typed, or the CI's own variables."""

from __future__ import annotations

import pytest

from conformance.errors import ConfigError
from conformance.shards import MAX_SHARDS, Shard, shard_from_ci


def test_spaces_around_the_numbers_are_forgiven_and_the_shard_prints_as_typed() -> None:
    assert Shard.parse(" 2 / 3 ", "PHASE2_SHARD") == Shard(2, 3)
    assert str(Shard(2, 3)) == "2/3"


@pytest.mark.parametrize("wrong", ["1/-2", "1.5/3", "2/3/4", "", f"1/{MAX_SHARDS + 1}", "12345/12345"])
def test_a_wrong_spelling_names_where_it_came_from(wrong: str) -> None:
    with pytest.raises(ConfigError, match="shard from PHASE2_SHARD must be I/N"):
        Shard.parse(wrong, "PHASE2_SHARD")


def test_the_largest_matrix_is_accepted() -> None:
    assert Shard.parse(f"{MAX_SHARDS}/{MAX_SHARDS}", "--shard") == Shard(MAX_SHARDS, MAX_SHARDS)


def test_a_ci_index_past_its_total_is_refused_with_the_variables_named() -> None:
    with pytest.raises(ConfigError, match="shard from CIRCLE_NODE_INDEX/CIRCLE_NODE_TOTAL"):
        shard_from_ci({"CIRCLE_NODE_INDEX": "3", "CIRCLE_NODE_TOTAL": "3"})  # 0-based: 3 is the fourth


def test_the_first_ci_that_sets_both_variables_wins() -> None:
    both = {"CI_NODE_INDEX": "1", "CI_NODE_TOTAL": "2", "CIRCLE_NODE_INDEX": "0", "CIRCLE_NODE_TOTAL": "5"}
    assert shard_from_ci(both) == (Shard(1, 2), "CI_NODE_INDEX/CI_NODE_TOTAL")
    assert shard_from_ci({"CI_NODE_INDEX": "1"}) is None  # half a pair is no parallel job
