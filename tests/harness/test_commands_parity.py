"""The parity faces of the CLI: ``check``, ``diff``, ``explain``, ``merge-reports`` (exit codes, output, files).

Most runs are in-process (``harness.cli.main``) on a generated project with a fake external renderer;
the bad-input cases run the real console entry point in a subprocess to prove one line, no traceback.
"""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.cli import main
from tests.integration.fake_project import PLANTED, FakeProject, copy_project, inventory_text, make_project, rule


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> FakeProject:
    return make_project(tmp_path_factory.mktemp("cli") / "project")


@pytest.fixture
def project(base: FakeProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeProject:
    copy = copy_project(base, tmp_path / "project")
    monkeypatch.chdir(copy.root)
    return copy


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def subprocess_cli(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness.cli", *argv], cwd=cwd, capture_output=True, text=True,
                          check=False, timeout=120)


def mutate(project: FakeProject, cluster: str, rel: str, old: str, new: str) -> None:
    path = project.overlay(cluster) / rel
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


# --------------------------------------------------------------------------------------------- check

def test_check_clean_prints_one_status_line_per_cluster(project: FakeProject,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "check")
    assert code == 0
    lines = out.splitlines()
    assert [line.split()[:2] for line in lines[:4]] == [["ok", "parity[k8s-a]"], ["ok", "parity[k8s-b]"],
                                                        ["ok", "parity[k8s-c]"], ["ok", "inventory"]]
    assert "11 files compared" in lines[0]
    assert lines[-1] == "PASSED: 4 of 4 checks clean, 0 finding(s)"


def test_check_findings_exit_1_with_redacted_findings_and_reports(project: FakeProject, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    mutate(project, "k8s-b", "customer-managed/sources/repo-auth.yaml", PLANTED, "PLACEHOLDER-other-value")
    mutate(project, "k8s-b", "services/sources/opencenter-app.yaml", "v1.2.0", "v1.0.0")
    code, out, _ = cli(capsys, "check", "--json", "r.json", "--junit", "out/r.xml", "--sarif", "r.sarif")
    assert code == 1
    assert "FAIL parity[k8s-b]" in out
    assert "2 finding(s)" in out
    assert "spec.ref.tag: 'v1.0.0' → 'v1.2.0'" in out
    assert "stringData.identity: <redacted sha256:" in out
    assert out.splitlines()[-1] == "FAILED: 3 of 4 checks clean, 2 finding(s) (PARITY-CONTENT: 2)"
    assert "update the fixture (--update)" in out  # hints name this face's flags
    assert "--parity-update" not in out
    files = [project.root / "r.json", project.root / "out/r.xml", project.root / "r.sarif"]
    for path in files:
        assert PLANTED not in path.read_text()
    report = json.loads(files[0].read_text())
    assert [r["name"] for r in report["results"]] == ["parity[k8s-a]", "parity[k8s-b]", "parity[k8s-c]", "inventory"]
    assert report["summary"]["by_code"] == {"PARITY-CONTENT": 2}
    junit = ET.parse(files[1]).getroot()  # noqa: S314 (our own output)
    assert len(junit.findall(".//testcase")) == 4
    sarif = json.loads(files[2].read_text())
    assert sorted(r["ruleId"] for r in sarif["runs"][0]["results"]) == ["PARITY-CONTENT", "PARITY-CONTENT"]
    assert PLANTED not in out


def test_check_quiet_prints_the_failing_findings_and_the_summary_only(project: FakeProject,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "check", "-q")
    assert (code, out) == (0, "PASSED: 4 of 4 checks clean, 0 finding(s)\n")
    mutate(project, "k8s-b", "services/sources/opencenter-app.yaml", "v1.2.0", "v1.0.0")
    code, out, _ = cli(capsys, "check", "-q")
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("[k8s-b] PARITY-CONTENT ")
    assert "spec.ref.tag: 'v1.0.0' → 'v1.2.0'" in out
    assert not any(line.startswith(("ok ", "FAIL ")) for line in lines)
    assert lines[-1] == "FAILED: 3 of 4 checks clean, 1 finding(s) (PARITY-CONTENT: 1)"


def test_check_cluster_and_shard_selection(project: FakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "check", "--cluster", "k8s-c")
    assert code == 0
    assert "parity[k8s-a]" not in out
    assert "ok   parity[k8s-c]" in out
    code, out, _ = cli(capsys, "check", "--shard", "2/3")
    assert code == 0
    assert "parity[k8s-b]" in out
    assert "parity[k8s-a]" not in out


def test_check_update_then_clean(project: FakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    mutate(project, "k8s-a", "services/sources/opencenter-app.yaml", "v1.2.0", "v1.0.0")
    code, out, _ = cli(capsys, "check", "--update")
    assert code == 0
    assert "update: rewrote services/sources/opencenter-app.yaml: differs (1 change)" in out
    assert "update: skipped delete of services/app/legacy.yaml: under ignore_fixture rule legacy-file" in out
    assert cli(capsys, "check")[0] == 0
    assert cli(capsys, "check", "--update-force")[0] == 2


@pytest.mark.parametrize(("argv", "code", "needle"), [
    (["check", "--cluster", "k8s-nope"], "USAGE", "unknown cluster 'k8s-nope' (known: k8s-a, k8s-b, k8s-c)"),
    (["check", "--fixture", "no/such/dir"], "FILE-MISSING", "fixture directory does not exist"),
    (["check", "--inventory", "bad.yaml"], "INVENTORY-INVALID", "bad.yaml:11:"),
    (["check", "--shard", "0/2"], "USAGE", "bad shard '0/2'"),
    (["check", "--renderer", "no-such-tool --config {config} --out {out}"], "RENDERER-INVALID", "no-such-tool"),
    (["diff", "--cluster", "k8s-a", "../../etc/passwd"], "PATH-ESCAPE", "without '..'"),
    (["merge-reports", "out.json", "missing.json"], "FILE-MISSING", "missing.json"),
])
def test_bad_input_is_one_line_exit_2_without_traceback(base: FakeProject, tmp_path: Path, argv: list[str],
                                                        code: str, needle: str) -> None:
    (base.root / "bad.yaml").write_text(inventory_text().replace("'ignore_fixture'", "'ignore_all'"))
    proc = subprocess_cli(base.root, *argv)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert f"{code}:" in proc.stderr
    assert needle in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_oracle_overlay_is_file_missing(project: FakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    (project.fixture / ".k8s-new-config.yaml").write_text(project.config("k8s-a").read_text())
    code, out, err = cli(capsys, "check")
    assert code == 2
    assert out == ""
    assert "FILE-MISSING" in err
    assert "applications/overlays/k8s-new" in err


# --------------------------------------------------------------------------------------------- diff

def test_diff_shows_the_full_redacted_yaml_diff(project: FakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    mutate(project, "k8s-b", "customer-managed/sources/repo-auth.yaml", PLANTED, "PLACEHOLDER-other-value")
    mutate(project, "k8s-b", "customer-managed/sources/repo-auth.yaml", "stringData:", "type: Opaque\nstringData:")
    code, out, _ = cli(capsys, "diff", "--cluster", "k8s-b", "customer-managed/sources/repo-auth.yaml")
    assert code == 1
    assert "type: removed 'Opaque'" in out
    assert "stringData.identity: <redacted sha256:" in out
    assert PLANTED not in out
    assert "other-value" not in out
    assert out.splitlines()[-1] == "differs: PARITY-CONTENT (2 changes)"


def test_diff_applies_rules_and_aliases_from_either_side(project: FakeProject,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "diff", "--cluster", "k8s-c", "services/fluxcd/app.yaml")
    assert code == 0
    assert "no difference (equal as YAML data) after yaml_remove flux-annotation" in out
    (project.root / "config").mkdir()
    project.set_rendered("k8s-a", "services/app/values.yaml", "replicas: 5\n")
    for path in ("services/app/values.yaml", "services/app/override-values.yaml",
                 str(project.overlay("k8s-a") / "services/app/override-values.yaml")):
        code, out, _ = cli(capsys, "diff", "--cluster", "k8s-a", path)
        assert code == 1, path
        assert "fixture services/app/override-values.yaml / rendered services/app/values.yaml" in out
        assert "rule: values-alias (alias, clusters.k8s-a)" in out
        assert "replicas: 2 → 5" in out


def test_diff_text_file_path_only_and_missing(project: FakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "diff", "--cluster", "k8s-c", "services/app/notes.txt")
    assert code == 0
    assert "  -hand-written notes" in out
    assert "  +rendered notes" in out
    assert "accepted: path_only notes-path-only" in out
    code, out, _ = cli(capsys, "diff", "--cluster", "k8s-b", "services/app/legacy.yaml")
    assert code == 0
    assert "only in the fixture: ignored by legacy-file" in out
    (project.overlay("k8s-a") / "services/app/networkpolicy.yaml").unlink()
    code, out, _ = cli(capsys, "diff", "--cluster", "k8s-a", "services/app/networkpolicy.yaml")
    assert code == 1
    assert "only in the rendered output: PARITY-UNEXPECTED" in out
    code, out, _ = cli(capsys, "diff", "--cluster", "k8s-a", "flux-system/gotk-sync.yaml")
    assert code == 0
    assert "bootstrap-owned" in out
    code, _, err = cli(capsys, "diff", "--cluster", "k8s-a", "services/none.yaml")
    assert code == 2
    assert "FILE-MISSING" in err


# --------------------------------------------------------------------------------------------- explain

def test_explain_names_owner_rules_and_whether_they_matched(project: FakeProject,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "explain", "--cluster", "k8s-a", "services/app/override-values.yaml")
    assert code == 0
    assert "ownership: renderer-owned" in out
    assert "rendered:  yes, as services/app/values.yaml by descriptor app" in out
    assert "compared:  rendered services/app/values.yaml with fixture services/app/override-values.yaml" in out
    assert "- values-alias (alias, clusters.k8s-a, canonicalization/fake-fixture.yaml:9)" in out
    assert "rationale: fixture drift" in out
    assert "approved_by: parity-oracle-owner" in out
    assert "matched here: yes (the rendered file exists)" in out
    assert "- debug-flag (yaml_remove, defaults" in out
    assert "matched here: no" in out
    code, out, _ = cli(capsys, "explain", "--cluster", "k8s-c", "services/app/override-values.yaml", "--json")
    data = json.loads(out)
    assert [(r["id"], r["matched"]) for r in data["rules"]] == [("debug-flag", True)]
    assert data["owner"]["descriptor"] == "app"
    assert data["summary"] == "equal after yaml_remove rules"


def test_explain_other_and_bootstrap_paths(project: FakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    assert "bootstrap-owned" in cli(capsys, "explain", "--cluster", "k8s-a", "flux-system/gotk-sync.yaml")[1]
    assert "not renderer-owned" in cli(capsys, "explain", "--cluster", "k8s-a", "README.md")[1]
    _code, out, _ = cli(capsys, "explain", "--cluster", "k8s-b", "services/app/legacy.yaml")
    assert "rendered:  no" in out
    assert "verdict:   not compared: ignored by legacy-file" in out


# --------------------------------------------------------------------------------------------- merge-reports

def shard_reports(capsys: pytest.CaptureFixture[str], total: int = 2) -> list[str]:
    names = []
    for index in range(1, total + 1):
        name = f"shard{index}.json"
        cli(capsys, "check", "--shard", f"{index}/{total}", "--json", name)
        names.append(name)
    return names


def test_merge_reports_judges_stale_rules_on_the_union(project: FakeProject,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    names = shard_reports(capsys)  # debug-flag matches in k8s-c only: shard 1 of 2
    code, out, _ = cli(capsys, "merge-reports", "merged.json", *names, "--junit", "merged.xml")
    assert code == 0, out
    merged = json.loads((project.root / "merged.json").read_text())
    assert merged["clusters_run"] == ["k8s-a", "k8s-b", "k8s-c"]
    assert [r["name"] for r in merged["results"]] == ["parity[k8s-a]", "parity[k8s-c]", "parity[k8s-b]", "inventory"]
    assert merged["results"][-1]["notes"]["stale_rules_judged"] == "all rules"
    assert (project.root / "merged.xml").is_file()


def test_merge_reports_finds_a_default_rule_stale_in_every_shard(project: FakeProject,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    extra = rule("nowhere", "ignore_rendered", "services/none.yaml")
    project.inventory.write_text(inventory_text().replace("defaults:\n", f"defaults:\n  {extra}\n"))
    names = shard_reports(capsys)
    for name in names:  # no shard can call a default rule stale
        assert json.loads((project.root / name).read_text())["summary"]["errors"] == 0
    code, out, _ = cli(capsys, "merge-reports", "merged.json", *names)
    assert code == 1
    assert "PARITY-STALE-RULE canonicalization/fake-fixture.yaml:5: rule 'nowhere'" in out


def test_merge_reports_refuses_overlap_and_changed_inventory(project: FakeProject,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    names = shard_reports(capsys)
    code, _, err = cli(capsys, "merge-reports", "merged.json", names[0], names[0])
    assert code == 2
    assert "REPORT-INVALID" in err
    project.inventory.write_text(inventory_text(version="1.1.0"))
    code, _, err = cli(capsys, "merge-reports", "merged.json", *names)
    assert code == 2
    assert "inventory version 1.0.0" in err
    project.inventory.write_text(inventory_text(budget=2))
    code, _, err = cli(capsys, "merge-reports", "merged.json", *names)
    assert code == 2
    assert "rules changed" in err


@pytest.fixture(scope="module")
def shard_set(base: FakeProject) -> Path:
    """Reports of shards 1..2 of 2 and 1..3 of 3, a copy of 1/2, and an unsharded run, written once."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(base.root)
        for total in (2, 3):
            for index in range(1, total + 1):
                assert main(["check", "--shard", f"{index}/{total}", "--json", f"shards/{index}of{total}.json"]) == 0
        assert main(["check", "--json", "shards/all.json"]) == 0
    reports = base.root / "shards"
    (reports / "1of2-again.json").write_bytes((reports / "1of2.json").read_bytes())
    return reports


@pytest.mark.parametrize(("inputs", "options", "needle"), [
    (["1of3", "3of3"], [], "REPORT-INVALID: shard 2/3 is missing (2 of 3 shard reports given) (fix: pass every "
                           "shard's report, or --allow-partial to merge an incomplete set)"),
    (["1of3"], [], "shards 2/3, 3/3 are missing"),
    (["1of2", "2of2", "1of2-again"], [], "1of2-again.json: REPORT-INVALID: shard 1/2 is given twice (also "),
    (["1of2", "1of2-again"], ["--allow-partial"], "shard 1/2 is given twice"),
    (["1of2", "2of3"], [], "2of3.json: REPORT-INVALID: shard 2/3 does not belong with shard 1/2 ("),
    (["1of3", "2of3", "3of3", "1of2"], ["--allow-partial"], "shard 1/2 does not belong with shard 1/3"),
    (["1of2", "2of2"], ["--expect-shards", "3"], "shard 1/2 is not a shard of --expect-shards 3"),
    (["1of2", "2of2"], ["--expect-shards", "3", "--allow-partial"], "is not a shard of --expect-shards 3"),
    (["all"], ["--expect-shards", "2"], "REPORT-INVALID: 1 of --expect-shards 2 reports given"),
    (["all", "1of2-again"], [], "all.json: REPORT-INVALID: report has no shard label but "),
    (["1of2"], ["--expect-shards", "0"], "USAGE: argument --expect-shards: expected a shard count N >= 1"),
], ids=["missing", "two-missing", "duplicate", "duplicate-partial", "mixed-n", "mixed-n-partial",
        "expect-mismatch", "expect-mismatch-partial", "expect-unlabelled", "labelled-and-not", "expect-zero"])
def test_merge_reports_refuses_a_set_that_is_not_one_whole_matrix(shard_set: Path, tmp_path: Path,
                                                                  inputs: list[str], options: list[str],
                                                                  needle: str) -> None:
    out = tmp_path / "merged.json"
    files = [str(shard_set / f"{name}.json") for name in inputs]
    proc = subprocess_cli(shard_set.parent, "merge-reports", str(out), *files, *options)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert needle in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()


def test_merge_reports_whole_matrix_passes(shard_set: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(shard_set.parent)
    out = str(tmp_path / "merged.json")
    for inputs, options in ((["3of3", "1of3", "2of3"], ["--expect-shards", "3"]), (["all"], []),
                            (["all"], ["--expect-shards", "1"]), (["1of2", "2of2"], ["--allow-partial"])):
        code, stdout, err = cli(capsys, "merge-reports", out, *(str(shard_set / f"{n}.json") for n in inputs),
                                *options)
        assert (code, err) == (0, ""), stdout + err
        assert stdout.splitlines()[-1] == "PASSED: 4 of 4 checks clean, 0 finding(s)"
        merged = json.loads(Path(out).read_text())
        assert merged["results"][-1]["notes"]["stale_rules_judged"] == "all rules"


def test_merge_reports_fails_on_a_cluster_no_report_covers(project: FakeProject, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    for cluster in ("k8s-a", "k8s-b"):  # unlabelled partial runs: the label checks cannot see k8s-c is missing
        assert cli(capsys, "check", "--cluster", cluster, "--json", f"{cluster}.json")[0] == 0
    code, out, err = cli(capsys, "merge-reports", "merged.json", "k8s-a.json", "k8s-b.json",
                         "--junit", "merged.xml", "--sarif", "merged.sarif")
    assert code == 1
    assert "FAIL parity[k8s-c]" in out
    assert ("[k8s-c] PARITY-NOT-RUN testdata/fake-fixture/.k8s-c-config.yaml: cluster k8s-c was not checked: "
            "none of the 2 report(s) covers it") in out
    assert out.splitlines()[-1] == "FAILED: 3 of 4 checks clean, 1 finding(s) (PARITY-NOT-RUN: 1)"
    assert "no report covers k8s-c" in err
    merged = json.loads((project.root / "merged.json").read_text())
    assert [r["name"] for r in merged["results"]] == ["parity[k8s-a]", "parity[k8s-b]", "parity[k8s-c]", "inventory"]
    assert merged["summary"]["by_code"] == {"PARITY-NOT-RUN": 1}
    assert merged["clusters_run"] == ["k8s-a", "k8s-b"]
    junit = ET.parse(project.root / "merged.xml").getroot()  # noqa: S314 (our own output)
    assert [f.get("type") for f in junit.iter("failure")] == ["PARITY-NOT-RUN"]
    sarif = json.loads((project.root / "merged.sarif").read_text())
    [result] = sarif["runs"][0]["results"]
    assert result["ruleId"] == "PARITY-NOT-RUN"
    assert result["properties"]["cluster"] == "k8s-c"


def test_merge_reports_allow_partial_keeps_the_note(shard_set: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(shard_set.parent)
    out = tmp_path / "merged.json"
    code, stdout, err = cli(capsys, "merge-reports", str(out), str(shard_set / "1of3.json"),
                            str(shard_set / "3of3.json"), "--expect-shards", "3", "--allow-partial")
    assert code == 0, stdout + err
    assert err == "merge-reports: no report covers k8s-b: default rules were not judged stale or not\n"
    assert "PARITY-NOT-RUN" not in stdout
    merged = json.loads(out.read_text())
    assert [r["name"] for r in merged["results"]] == ["parity[k8s-a]", "parity[k8s-c]", "inventory"]
    assert merged["results"][-1]["notes"]["stale_rules_judged"] == "cluster rules of the clusters run"


def test_merge_reports_counts_a_render_error_as_covered(project: FakeProject,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    project.fail_render("k8s-b", "boom")  # k8s-b has a result but did not run
    names = shard_reports(capsys)
    code, out, _ = cli(capsys, "merge-reports", "merged.json", *names)
    assert code == 1
    assert "PARITY-RENDER-ERROR" in out
    assert "PARITY-NOT-RUN" not in out


def test_a_secret_generator_input_is_never_shown_by_diff_or_check(project: FakeProject,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """An ``envs:`` file of a secretGenerator is Secret data (issue 13 item 5): ``check`` and ``diff`` name
    the difference by fingerprint only."""
    kustomization = ("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nsecretGenerator:\n"
                     "  - name: app-env\n    envs:\n      - app.env\n")
    project.set_rendered("k8s-a", "services/vault/kustomization.yaml", kustomization)
    project.set_rendered("k8s-a", "services/vault/app.env", "MODE=canary-rendered-Lm4Xp9\n")
    (project.overlay("k8s-a") / "services/vault").mkdir(parents=True)
    (project.overlay("k8s-a") / "services/vault/kustomization.yaml").write_text(kustomization)
    (project.overlay("k8s-a") / "services/vault/app.env").write_text("MODE=canary-fixture-Qw7Zr2\n")
    code, out, err = cli(capsys, "check", "--cluster", "k8s-a", "--json", "r.json")
    assert code == 1
    assert "PARITY-CONTENT" in out
    assert "secretGenerator input" in out
    code, diff_out, diff_err = cli(capsys, "diff", "--cluster", "k8s-a", "services/vault/app.env")
    assert code == 1
    assert "shown by fingerprint only" in diff_out
    assert "canary-" not in out + err + diff_out + diff_err + (project.root / "r.json").read_text()


def test_diff_unified_shows_the_canonical_yaml_texts_redacted(project: FakeProject, capsys: pytest.CaptureFixture[str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    mutate(project, "k8s-b", "customer-managed/sources/repo-auth.yaml", PLANTED, "PLACEHOLDER-other-value")
    mutate(project, "k8s-b", "customer-managed/sources/repo-auth.yaml", "stringData:", "type: Opaque\nstringData:")
    monkeypatch.setenv("NO_COLOR", "1")
    code, out, _ = cli(capsys, "diff", "--unified", "--cluster", "k8s-b", "customer-managed/sources/repo-auth.yaml")
    assert code == 1
    lines = [line.strip() for line in out.splitlines()]
    assert "-type: Opaque" in lines  # the fixture side has it, the rendered side not
    assert any(line.startswith("@@ ") for line in lines)
    assert any(line.startswith(("-  identity: <redacted sha256:", "+  identity: <redacted sha256:")) for line in lines)
    assert PLANTED not in out
    assert "other-value" not in out
    assert "\x1b[" not in out  # NO_COLOR
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("FORCE_COLOR", "1")
    _, coloured, _ = cli(capsys, "diff", "--unified", "--cluster", "k8s-b", "customer-managed/sources/repo-auth.yaml")
    assert "\x1b[31m-type: Opaque\x1b[0m" in coloured
    assert PLANTED not in coloured
