"""Case-list comparison names each differing case with both outcomes."""

from conform.parity import differences


def test_identical_lists_have_no_differences() -> None:
    assert differences([("a", 1), ("b", {"x": 2})], [("a", 1), ("b", {"x": 2})]) == []


def test_each_differing_case_is_reported_with_both_sides() -> None:
    found = differences([("a", 1), ("b", "EINVAL")], [("a", 1), ("b", "ok")])
    assert found == ["b\n    reference: EINVAL\n    candidate: ok"]


def test_different_case_lists_are_one_difference() -> None:
    found = differences([("a", 1), ("b", 2)], [("a", 1), ("c", 2)])
    assert found == ["case lists differ: missing ['b'], extra ['c']"]
