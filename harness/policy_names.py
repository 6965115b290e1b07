"""The names of the policy checks, in their order, without importing them.

``pytest --parity`` collects one item per cluster and policy; listing the names must not cost what
importing the policies does (~0.1 s: schema validation, YAML tooling). ``harness.policy.POLICIES`` holds
the checks themselves; a test keeps the two in step.
"""

POLICY_NAMES = ("lifecycle", "flux-paths", "conventions", "security-files", "sops", "schema")
