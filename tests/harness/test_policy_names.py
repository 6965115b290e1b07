"""The policy names the pytest plugin collects without importing the policies are the policies' own."""

from __future__ import annotations

from harness.policy import POLICIES
from harness.policy_names import POLICY_NAMES


def test_the_names_are_the_policies_in_their_order() -> None:
    assert list(POLICY_NAMES) == list(POLICIES)
