"""``pytest --parity`` with pytester: collection ids, options, report file, update mode, xdist parity.

Each pytester run happens in a temp dir holding a generated project (a pyproject.toml with a
``[tool.overlay-parity]`` table, a fixture, an inventory and a fake external renderer command); see
:mod:`tests.integration.fake_project`. Policy items need real overlays, so runs that execute checks
deselect them with ``-k "not policy"`` (the bundled fixture runs them in tests/integration).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

# In-process pytester runs restore sys.modules afterwards; modules first imported inside a run would be
# imported again by the next one, and ruamel's C loader does not survive that. Import what the checks use now.
import harness.coverage
import harness.policy
import harness.runner
import harness.secrets
import harness.update  # noqa: F401
from tests.integration.fake_project import PLANTED, FakeProject, inventory_text, make_project, rule

pytest_plugins = ("pytester",)

NOT_POLICY = ("-k", "not policy")
# parity plus two policies that pass on the fake project, per cluster
SHARED = "parity or conventions or security"
# the secrets item covers the fixture: the default fixture_globs derive from it (issue 13)
CHECKS = ["parity[k8s-a]", "parity[k8s-b]", "parity[k8s-c]", "inventory", "secrets[testdata/fake-fixture]"]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> FakeProject:
    return make_project(tmp_path_factory.mktemp("plugin") / "project")


@pytest.fixture
def project(template: FakeProject, pytester: pytest.Pytester) -> FakeProject:
    """The generated project copied into the pytester directory (its cwd and rootdir)."""
    shutil.copytree(template.root, pytester.path, dirs_exist_ok=True)
    copy = FakeProject(pytester.path)
    (pytester.path / "pyproject.toml").write_text(copy.pyproject(), encoding="utf-8")
    return copy


def report_of(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def only_failure_codes(result: pytest.RunResult, report: Path) -> list[str]:
    """The finding codes of a run in which exactly one item failed and none passed."""
    assert result.parseoutcomes().get("failed") == 1
    assert "passed" not in result.parseoutcomes()
    return [f["code"] for r in report_of(report)["results"] for f in r["findings"]]


def normalized(data: dict[str, Any]) -> dict[str, Any]:
    """A report without timings (the only thing that may differ between two runs)."""
    data = json.loads(json.dumps(data))
    for result in data["results"]:
        result["seconds"] = 0
    return data


def test_nothing_is_collected_without_parity(project: FakeProject, pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--co", "-q")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    assert "parity[" not in result.stdout.str()


def test_collection_ids(project: FakeProject, pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--parity", "--co", "-q")
    assert result.ret == pytest.ExitCode.OK
    ids = [line for line in result.stdout.lines if line.startswith(("parity[", "inventory", "secrets[", "policy["))]
    assert ids[:5] == CHECKS
    policies = [i for i in ids if i.startswith("policy[")]
    assert "policy[k8s-a-lifecycle]" in policies
    assert "policy[k8s-c-schema]" in policies
    assert len(policies) % 3 == 0
    assert len(policies) >= 18
    assert f"{len(ids)} tests collected" in result.stdout.str()
    only = pytester.runpytest("--parity", "--co", "-q", "-m", "overlay_check", "-k", "parity and not policy")
    assert [line for line in only.stdout.lines if "[" in line] == CHECKS[:3]


def test_cluster_and_shard_options(project: FakeProject, pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--parity", "--co", "-q", "--parity-cluster", "k8s-b", *NOT_POLICY)
    assert [line for line in result.stdout.lines if line.startswith(("parity[", "inventory", "secrets["))] == \
        ["parity[k8s-b]", "inventory", "secrets[testdata/fake-fixture]"]
    result = pytester.runpytest("--parity", "--co", "-q", "--parity-shard", "2/2", *NOT_POLICY)
    assert [line for line in result.stdout.lines if line.startswith(("parity[", "inventory", "secrets["))] == \
        ["parity[k8s-b]", "inventory"]  # coverage and secrets belong to shard 1


def test_unknown_cluster_is_one_usage_line(project: FakeProject, pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--parity", "--parity-cluster", "k8s-zz")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if "ERROR" in line]
    assert len(errors) == 1
    assert "unknown cluster 'k8s-zz' (known: k8s-a, k8s-b, k8s-c)" in errors[0]
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_passing_run_writes_the_report(project: FakeProject, pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--parity", *NOT_POLICY, "--parity-report", "out/report.json")
    result.assert_outcomes(passed=5, deselected=18)
    data = report_of(pytester.path / "out/report.json")
    assert [r["name"] for r in data["results"]] == CHECKS
    assert data["clusters_run"] == ["k8s-a", "k8s-b", "k8s-c"]
    assert data["matched_rules"] == sorted(["debug-flag", "flux-annotation", "generated-file", "legacy-file",
                                            "notes-path-only", "values-alias"])
    assert data["inventory"]["path"] == "canonicalization/fake-fixture.yaml"
    assert data["results"][3]["notes"]["stale_rules_judged"] == "all rules"
    assert "JSON report written to out/report.json" in result.stdout.str()


def test_options_override_the_pyproject(project: FakeProject, pytester: pytest.Pytester) -> None:
    moved = pytester.path / "elsewhere"
    shutil.move(str(project.fixture), moved / "fixture")
    shutil.move(str(project.inventory), moved / "inventory.yaml")
    (pytester.path / "pyproject.toml").write_text(project.pyproject().replace(project.renderer, "missing-renderer"))
    result = pytester.runpytest("--parity", "-k", "not policy and not secrets",
                                "--parity-fixture", str(moved / "fixture"),
                                "--parity-inventory", str(moved / "inventory.yaml"),
                                "--parity-renderer", project.renderer)
    result.assert_outcomes(passed=4)


def test_findings_are_shown_redacted_without_traceback(project: FakeProject, pytester: pytest.Pytester) -> None:
    secret = project.overlay("k8s-b") / "customer-managed/sources/repo-auth.yaml"
    secret.write_text(secret.read_text().replace(PLANTED, "PLACEHOLDER-fixture-side-value"))
    source = project.overlay("k8s-b") / "services/sources/opencenter-app.yaml"
    source.write_text(source.read_text().replace("v1.2.0", "v0.9.0"))
    result = pytester.runpytest("--parity", *NOT_POLICY, "-vv", "--tb=long", "--parity-report", "r.json")
    result.assert_outcomes(passed=4, failed=1, deselected=18)
    text = result.stdout.str()
    assert "[k8s-b] PARITY-CONTENT services/sources/opencenter-app.yaml" in text
    assert "spec.ref.tag: 'v0.9.0' → 'v1.2.0'" in text
    assert "stringData.identity: <redacted sha256:" in text
    assert PLANTED not in text
    assert "fixture-side-value" not in text
    assert "Traceback" not in text
    assert "def runtest" not in text
    assert PLANTED not in (pytester.path / "r.json").read_text()
    assert "update the fixture (--parity-update)" in text  # hints name this face's flags
    assert "(--update)" not in text
    assert "(--parity-update)" in (pytester.path / "r.json").read_text()


def test_input_error_is_one_line(project: FakeProject, pytester: pytest.Pytester) -> None:
    project.inventory.write_text(inventory_text().replace("'ignore_fixture'", "'ignore_all'"))
    result = pytester.runpytest("--parity", *NOT_POLICY, "-vv", "--tb=long")
    result.assert_outcomes(passed=1, failed=4, deselected=18)
    text = result.stdout.str()
    lines = [line for line in result.stdout.lines if "INVENTORY-INVALID" in line and not line.startswith("FAILED")]
    assert len(lines) == 4
    assert lines[0].startswith("canonicalization/fake-fixture.yaml:11:")
    assert "Traceback" not in text
    assert "raise" not in text


def test_render_error_is_a_finding(project: FakeProject, pytester: pytest.Pytester) -> None:
    project.fail_render("k8s-c", "broken template")
    result = pytester.runpytest("--parity", *NOT_POLICY)
    result.assert_outcomes(passed=4, failed=1, deselected=18)
    assert "[k8s-c] PARITY-RENDER-ERROR" in result.stdout.str()
    assert "broken template" in result.stdout.str()


def test_update_mode_rewrites_and_reports(project: FakeProject, pytester: pytest.Pytester) -> None:
    source = project.overlay("k8s-a") / "services/sources/opencenter-app.yaml"
    source.write_text(source.read_text().replace("v1.2.0", "v0.9.0"))
    policy = project.overlay("k8s-a") / "services/app/networkpolicy.yaml"
    policy.write_text(policy.read_text().replace("deny-all", "allow-all"))
    result = pytester.runpytest("--parity", *NOT_POLICY, "--parity-update")
    result.assert_outcomes(passed=4, failed=1, deselected=18)  # the NetworkPolicy was not rewritten
    text = result.stdout.str()
    assert "overlay-parity: fixture updates" in text
    assert "k8s-a: rewrote services/sources/opencenter-app.yaml: differs (1 change)" in text
    assert "k8s-a: skipped rewrite of services/app/networkpolicy.yaml: security-relevant" in text
    assert "k8s-b: skipped delete of services/app/legacy.yaml: under ignore_fixture rule legacy-file" in text
    assert "v1.2.0" in source.read_text()
    assert "allow-all" in policy.read_text()
    result = pytester.runpytest("--parity", *NOT_POLICY, "--parity-update", "--parity-update-force",
                                "--parity-cluster", "k8s-a")
    result.assert_outcomes(passed=3, deselected=6)
    assert "deny-all" in policy.read_text()
    pytester.runpytest("--parity", *NOT_POLICY).assert_outcomes(passed=5, deselected=18)
    result = pytester.runpytest("--parity", "--parity-update-force")
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def stale_inventory(project: FakeProject) -> None:
    """A default rule that matches nowhere and a cluster rule that matches nowhere (both stale), while
    ``debug-flag`` matches in k8s-c only (so it is stale if a worker judges alone)."""
    nowhere = rule("nowhere", "ignore_rendered", "services/none.yaml")
    unused = rule("b-unused", "ignore_fixture", "services/app/none.yaml")
    project.inventory.write_text(inventory_text().replace("defaults:\n", f"defaults:\n  {nowhere}\n")
                                 .replace("  k8s-b:\n", f"  k8s-b:\n    {unused}\n"))


def test_xdist_gives_the_same_results_as_a_single_process(project: FakeProject, pytester: pytest.Pytester) -> None:
    stale_inventory(project)
    source = project.overlay("k8s-c") / "services/sources/opencenter-app.yaml"
    source.write_text(source.read_text().replace("v1.2.0", "v0.9.0"))
    single = pytester.runpytest("-p", "xdist", "-n", "0", "--parity", *NOT_POLICY, "--parity-report", "single.json")
    single.assert_outcomes(passed=3, failed=2, deselected=18)
    distributed = pytester.runpytest_subprocess("-p", "xdist", "-n", "2", "--parity", *NOT_POLICY,
                                                "--parity-report", "xdist.json", "-v")
    distributed.assert_outcomes(passed=3, failed=2)
    assert single.ret == distributed.ret == pytest.ExitCode.TESTS_FAILED
    text = distributed.stdout.str()
    assert "[gw0]" in text
    assert "[gw1]" in text
    a, b = report_of(pytester.path / "single.json"), report_of(pytester.path / "xdist.json")
    assert normalized(a) == normalized(b)
    inventory = next(r for r in b["results"] if r["name"] == "inventory")
    assert sorted(f["rules"][0] for f in inventory["findings"]) == ["b-unused", "nowhere"]  # not debug-flag
    assert "rule 'nowhere' (ignore_rendered services/none.yaml) matched nothing" in text
    assert "Traceback" not in text


RECORDING_RENDERER = """
\"\"\"The fake project's renderer with the in-memory fast path; logs which path each render took.\"\"\"
import tempfile
from pathlib import Path

from harness.command_renderer import CommandRenderer
from harness.renderer_api import RenderedFiles

INNER = CommandRenderer(COMMAND)
LOG = Path(__file__).with_name("renders.log")


def _log(line):
    with LOG.open("a", encoding="utf-8") as handle:
        handle.write(line + "\\n")


class Recording:
    def render(self, config_path, out_dir, *, service=None):
        _log("disk " + config_path.name)
        return INNER.render(config_path, out_dir, service=service)

    def render_files(self, config_path):
        _log("memory " + config_path.name)
        with tempfile.TemporaryDirectory() as scratch:
            out = Path(scratch) / "out"
            plan = INNER.render(config_path, out)
            files = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
        return RenderedFiles(plan, files)


RENDERER = Recording()
"""


def test_parity_renders_in_memory_unless_selected_policy_items_share_the_render(
        project: FakeProject, pytester: pytest.Pytester) -> None:
    (pytester.path / "recording_renderer.py").write_text(RECORDING_RENDERER.replace("COMMAND", repr(project.renderer)))
    (pytester.path / "pyproject.toml").write_text(project.pyproject().replace(project.renderer,
                                                                              "recording_renderer:RENDERER"))
    pytester.syspathinsert()
    log = pytester.path / "renders.log"
    pytester.runpytest("--parity", *NOT_POLICY).assert_outcomes(passed=5, deselected=18)
    assert log.read_text().splitlines() == [f"memory .{c}-config.yaml" for c in ("k8s-a", "k8s-b", "k8s-c")]
    log.unlink()
    result = pytester.runpytest("--parity", "-k", f"k8s-a and ({SHARED})", "-v")
    result.assert_outcomes(passed=3, deselected=20)
    assert "policy[k8s-a-conventions] PASSED" in result.stdout.str()
    assert log.read_text().splitlines() == ["disk .k8s-a-config.yaml"]  # one render for the three items


def test_xdist_loadgroup_keeps_each_cluster_on_one_worker(project: FakeProject, pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("-p", "xdist", "-n", "2", "--dist", "loadgroup", "--parity", "-k", SHARED,
                                           "-v", "--parity-report", "grouped.json")
    result.assert_outcomes(passed=9)
    workers: dict[str, set[str]] = {}
    for worker, name in re.findall(r"^\[(gw\d)\] .*PASSED (\S+)", result.stdout.str(), re.M):
        cluster = re.sub(r"-(conventions|security-files)$", "", name.split("[", 1)[1].split("]", 1)[0])
        workers.setdefault(cluster, set()).add(worker)
    assert sorted(workers) == ["k8s-a", "k8s-b", "k8s-c"]
    assert all(len(ran_on) == 1 for ran_on in workers.values()), workers
    names = [r["name"] for r in report_of(pytester.path / "grouped.json")["results"]]
    assert "parity[k8s-a]" in names  # the report names items without the group suffix of their node ids


CONFTEST_LOADERS = """
import sys


def pytest_sessionfinish(session):
    with open("loaders.txt", "w", encoding="utf-8") as handle:
        for name in ("harness.runner", "harness.inventory", "conftest"):
            handle.write(f"{name} {type(sys.modules[name].__loader__).__name__}\\n")
"""


def test_harness_modules_are_imported_without_assertion_rewriting(project: FakeProject,
                                                                 pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST_LOADERS)
    result = pytester.runpytest_subprocess("--parity", *NOT_POLICY)
    result.assert_outcomes(passed=5, deselected=18)
    loaders = dict(line.split() for line in (pytester.path / "loaders.txt").read_text().splitlines())
    assert loaders == {"harness.runner": "SourceFileLoader", "harness.inventory": "SourceFileLoader",
                       "conftest": "AssertionRewritingHook"}


def test_a_parity_run_leaves_no_benchmarks_directory(project: FakeProject, pytester: pytest.Pytester,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every plugin installed with the package's dependencies loads (a subprocess run), and none of them
    leaves a `.benchmarks/` directory (pytest-benchmark, once a dev dependency, made one in every project).
    overlay-parity's own cache goes to the cache directory (pytester makes the project HOME, so it is
    named elsewhere here), and a file is written there: the run did use it."""
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("OVERLAY_PARITY_CACHE_DIR", str(cache))
    before = {p.name for p in pytester.path.iterdir()}
    pytester.runpytest_subprocess("--parity", *NOT_POLICY).assert_outcomes(passed=5, deselected=18)
    assert not (pytester.path / ".benchmarks").exists()
    assert {p.name for p in pytester.path.iterdir() if p.name.startswith(".")} - before == set()
    assert any(p.is_file() for p in cache.rglob("*"))


def test_secrets_item_applies_the_reviewed_allowlist(project: FakeProject, pytester: pytest.Pytester,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The pytest face judges secrets as ``scan-secrets`` does: an accepted finding needs a reviewed
    allowlist entry (issue 13 item 6), and an entry that matches nothing is a failure of its own."""
    from harness.cli import main

    secret = project.root / "testdata/fake-fixture/applications/overlays/k8s-a/services/app/secret.yaml"
    secret.write_text("apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\nstringData:\n"
                      "  password: hunter2-not-a-placeholder\n", encoding="utf-8")
    failing = pytester.runpytest("--parity", "-k", "secrets", "--parity-report=before.json")
    assert only_failure_codes(failing, pytester.path / "before.json") == ["SECRET-NOT-PLACEHOLDER"]

    monkeypatch.chdir(pytester.path)
    assert main(["scan-secrets", "--baseline-out", "draft.yaml", "testdata/fake-fixture"]) == 1
    reviewed = (pytester.path / "draft.yaml").read_text(encoding="utf-8").replace(
        'rationale: ""', "rationale: demo value of the plugin test").replace(
        'approved_by: ""', "approved_by: platform-security")
    allowlist = pytester.path / ".overlay-parity-secrets.yaml"
    allowlist.write_text(reviewed, encoding="utf-8")
    passing = pytester.runpytest("--parity", "-k", "secrets")
    assert passing.ret == 0
    assert passing.parseoutcomes().get("passed") == 1

    allowlist.write_text(reviewed + "  - fingerprint: sha256:" + "0" * 64 + "\n"
                         "    path: \"testdata/fake-fixture/**\"\n    rationale: a value removed since\n"
                         "    approved_by: platform-security\n", encoding="utf-8")
    stale = pytester.runpytest("--parity", "-k", "secrets", "--parity-report=stale.json")
    assert only_failure_codes(stale, pytester.path / "stale.json") == ["SECRET-STALE-ALLOW"]
    assert "hunter2" not in stale.stdout.str() + failing.stdout.str()


def test_policy_items_keep_builds_in_the_build_cache(project: FakeProject, pytester: pytest.Pytester,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Policy items build as ``overlay-parity policy`` does: kept in the build cache, so a second run (a CI
    re-run, the next local run) rebuilds nothing that did not change."""
    cache = pytester.path / "cache"
    monkeypatch.setenv("OVERLAY_PARITY_CACHE_DIR", str(cache))
    pytester.runpytest("--parity", "-k", "k8s-a and conventions").assert_outcomes(passed=1, deselected=22)
    kept = sorted(cache.glob("kustomize-*/*.json"))
    assert kept  # the builds of the first run
    stamps = {path: path.stat().st_mtime_ns for path in kept}
    pytester.runpytest("--parity", "-k", "k8s-a and conventions").assert_outcomes(passed=1, deselected=22)
    assert sorted(cache.glob("kustomize-*/*.json")) == kept
    assert {path: path.stat().st_mtime_ns for path in kept} == stamps  # read, not written again
