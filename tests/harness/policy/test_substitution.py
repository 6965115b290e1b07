"""Flux post-build substitution semantics (kustomize-controller / fluxcd envsubst), without a cluster."""

from __future__ import annotations

from typing import Any

from harness.policy.substitution import disabled, references, substitute, unresolved


def test_references_defaults_and_escapes() -> None:
    refs = list(references("a ${x} b ${y:=1} c ${z:-2} d $${esc} e $plain f ${#n} g ${w/a/b}"))
    assert [(r.name, r.has_default) for r in refs] == [("x", False), ("y", True), ("z", True), ("n", False),
                                                        ("w", False)]


def test_substitute_and_unresolved() -> None:
    data: dict[str, dict[str, Any]] = {"metadata": {"name": "${app}-web", "labels": {"env": "${env:=dev}"}},
            "spec": {"replicas": "${replicas}", "script": "echo $HOME $${KEEP}", "url": "${missing}"}}
    variables = {"app": "shop", "replicas": "3"}
    assert unresolved(data, variables) == ["missing"]
    out = substitute(data, variables)
    assert out["metadata"] == {"name": "shop-web", "labels": {"env": "dev"}}
    assert out["spec"] == {"replicas": 3, "script": "echo $HOME ${KEEP}", "url": ""}
    assert data["spec"]["replicas"] == "${replicas}"  # the input is not changed


def test_disabled_by_label_or_annotation() -> None:
    assert disabled({"metadata": {"labels": {"kustomize.toolkit.fluxcd.io/substitute": "disabled"}}})
    assert disabled({"metadata": {"annotations": {"kustomize.toolkit.fluxcd.io/substitute": "disabled"}}})
    assert not disabled({"metadata": {"annotations": {"kustomize.toolkit.fluxcd.io/substitute": "enabled"}}})
