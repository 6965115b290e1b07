"""source-controller's exclusion rules: defaults, .sourceignore files at any depth, negation, directories."""

from __future__ import annotations

from pathlib import Path

from harness.policy.sourceignore import IgnoreMatcher
from tests.support.trees import write_tree as write


def test_defaults_and_sourceignore_files(tmp_path: Path) -> None:
    write(tmp_path, {
        ".sourceignore": "# docs are not manifests\n*.md\nmonitoring/values/\n!keep.md\n",
        "apps/.sourceignore": "/local-only.yaml\ntests/\n",
    })
    matcher = IgnoreMatcher(tmp_path)
    ignored = [
        ".github/workflows/ci.yaml", "clusters/prod/.sops.yaml", "img/logo.png", ".gitlab-ci.yml",
        "README.md", "apps/docs/guide.md", "monitoring/values/grafana.yaml", "apps/local-only.yaml",
        "apps/x/tests/case.yaml",
    ]
    kept = ["clusters/prod/kustomization.yaml", "keep.md", "apps/x/local-only.yaml", "monitoring/namespace.yaml",
            "tests/case.yaml", ".sops.yaml.bak"]
    assert [p for p in ignored if not matcher.ignored(p)] == []
    assert [p for p in kept if matcher.ignored(p)] == []
    assert matcher.ignored("monitoring/values", is_dir=True)
    assert not matcher.ignored("monitoring", is_dir=True)
    assert matcher.ignored(".github", is_dir=True)


def test_without_defaults_only_sourceignore_counts(tmp_path: Path) -> None:
    write(tmp_path, {".sourceignore": "secret-*.yaml\n"})
    matcher = IgnoreMatcher(tmp_path, defaults=False)
    assert not matcher.ignored(".github/workflows/ci.yaml")
    assert matcher.ignored("apps/secret-db.yaml")
