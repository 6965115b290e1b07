"""harness.secrets.repository: the whole-repository scan gives the same findings, in the same order, with the
same errors, whether one process or several read the files (keys generated at test time, planted in many
encodings among hundreds of files, secretGenerator inputs shared across spans); the listing order; and the
real CLI forced parallel: byte-identical output, a bad file in a worker is one located line (exit 2), Ctrl-C
and a closed pipe stay quiet."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.findings import Finding
from harness.secrets import SKIP_DIRS, scan_repository
from harness.secrets.fanout import JOBS_ENV
from harness.secrets.repository import repository_names, tree_names
from tests.hardening.hostile import assert_one_line, run
from tests.hardening.support import CLI, env
from tests.harness.secret_corpus import ENCODINGS, Key, assert_no_leak, generate

ROOT = Path(__file__).resolve().parents[3]
GLOBS = ("/fixtures/demo/**",)
APPS = 60


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Key]:
    return generate(tmp_path_factory.mktemp("corpus"))


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")


def fleet(root: Path, corpus: list[Key]) -> Path:
    """About 600 files: fixture apps whose kustomizations turn values and env files into Secret data (some
    plain, some placeholders), a top kustomization (the last fixture file) reading two apps' env files too,
    fixture Secrets, every key of the corpus in three encodings outside the fixture, and filler."""
    files = {"overlay-parity.toml": 'fixture = "fixtures/demo"\n', "fixtures/demo/.k8s-a-config.yaml": "cluster: a\n",
             "fixtures/demo/shared/common.env": "SHARED_TOKEN=plain-shared-value\n",
             "fixtures/demo/kustomization.yaml": "secretGenerator:\n  - name: top\n    envs:\n"
                                                 "      - apps/app000/app.env\n      - apps/app003/app.env\n"
                                                 "      - shared/common.env\n"}
    for i in range(APPS):
        app = f"fixtures/demo/apps/app{i:03}"
        files[f"{app}/kustomization.yaml"] = (
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nsecretGenerator:\n"
            f"  - name: app{i}\n    files:\n      - values.yaml\n    envs:\n      - app.env\n"
            + (f"    literals:\n      - password=plain-literal-{i}\n" if i % 7 == 0 else ""))
        files[f"{app}/values.yaml"] = f"image: app{i}\nadminPassword: {'PLACEHOLDER-x' if i % 2 else f'plain-{i}'}\n"
        files[f"{app}/app.env"] = f"API_TOKEN={'PLACEHOLDER-y' if i % 3 else f'plain-token-{i}'}\n"
    for i in range(40):
        value = "PLACEHOLDER-s" if i % 4 else f"plain-secret-{i}"
        files[f"fixtures/demo/secrets/s{i:02}.yaml"] = (f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s{i}\n"
                                                        f"stringData:\n  password: {value}\n")
    for key in corpus:
        for encoding in ("literal", "base64-twice-wrapped", "base64url-unpadded"):
            encoded = ENCODINGS[encoding][0](key.text)
            files[f"clusters/prod/{key.name}/{encoding}.yaml"] = (
                "config:\n  material: |\n" + "".join(f"    {line}\n" for line in encoded.splitlines()))
    for i in range(250):
        files[f"docs/notes/n{i:03}.md"] = f"# note {i}\nnothing to see\n"
    write(root, files)
    return root


def as_data(findings: list[Finding]) -> str:
    return json.dumps([finding.to_dict() for finding in findings], sort_keys=True)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory, corpus: list[Key]) -> Path:
    return fleet(tmp_path_factory.mktemp("fleet"), corpus)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
@pytest.mark.parametrize("processes", [2, 3])
def test_a_parallel_scan_finds_what_the_serial_scan_finds_in_the_same_order(
        tree: Path, corpus: list[Key], processes: int) -> None:
    serial, count = scan_repository(tree, fixture_globs=GLOBS, processes=1)
    parallel, parallel_count = scan_repository(tree, fixture_globs=GLOBS, processes=processes)
    assert parallel_count == count == len(repository_names(tree))
    assert as_data(parallel) == as_data(serial)
    keys = {(f.path.split("/")[2], f.code) for f in serial if f.path.startswith("clusters/prod/")}
    assert keys == {(key.name, key.code) for key in corpus}  # every key found, in every encoding
    assert len([f for f in serial if f.path.startswith("clusters/prod/")]) == 3 * len(corpus)
    policy = [f for f in serial if f.code == "SECRET-NOT-PLACEHOLDER"]
    assert len(policy) == 30 + 20 + 9 + 10 + 1  # values files, env files, literals, Secrets, the shared env file
    assert_no_leak(as_data(serial), corpus)


def test_a_generator_input_read_by_two_kustomizations_is_reported_once_at_the_first(tree: Path) -> None:
    for processes in (1, 2, 3):
        findings, _ = scan_repository(tree, fixture_globs=GLOBS, processes=processes)
        for app in ("app000", "app003"):
            found = [f for f in findings if f.path == f"fixtures/demo/apps/{app}/app.env"]
            assert [f.extra["kustomization"] for f in found] == [f"fixtures/demo/apps/{app}/kustomization.yaml"]
        shared = [f for f in findings if f.path == "fixtures/demo/shared/common.env"]
        assert [f.extra["kustomization"] for f in shared] == ["fixtures/demo/kustomization.yaml"]


def test_the_tree_is_listed_in_scan_order_without_skipped_dirs_or_symlinks(tmp_path: Path) -> None:
    write(tmp_path, {name: "x\n" for name in (
        "a.txt", "a/b.txt", "a/b/c.txt", "a-b/x", "a.b/y", "A/z", "b", ".hidden/h", "node_modules/m/i.js",
        ".git/config", "deep/" + "/".join("d" * 3 for _ in range(40)) + "/f")})
    (tmp_path / "link").symlink_to("a.txt")
    (tmp_path / "dirlink").symlink_to("a")
    names = tree_names(str(tmp_path))
    assert names == sorted(names, key=lambda name: name.split("/"))
    everything = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()
                  and not p.is_symlink() and not set(p.relative_to(tmp_path).parts) & SKIP_DIRS}
    assert set(names) == everything
    assert "link" not in names
    assert not any(name.startswith("dirlink/") for name in names)


def test_in_git_the_listing_is_tracked_plus_untracked_not_ignored(tmp_path: Path) -> None:
    write(tmp_path, {".gitignore": "ignored.txt\n", "tracked/a.yaml": "a: 1\n", "gone.yaml": "b: 2\n",
                     "ignored.txt": "x\n"})
    for args in (("init", "-q"), ("add", "-A"), ("-c", "user.name=t", "-c", "user.email=t@example.invalid",
                                                 "-c", "commit.gpgsign=false", "commit", "-qm", "x")):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)
    (tmp_path / "gone.yaml").unlink()
    write(tmp_path, {"untracked/u.yaml": "c: 3\n"})
    assert repository_names(tmp_path) == [".gitignore", "tracked/a.yaml", "untracked/u.yaml"]


# ------------------------------------------------------------------------------------------- the real CLI

def cli(tree: Path, jobs: int, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*CLI, "scan-secrets", *args], cwd=tree, env=env(**{JOBS_ENV: str(jobs)}),
                          capture_output=True, timeout=300, check=False)


def test_cli_output_is_byte_identical_serial_and_parallel(tree: Path, corpus: list[Key], tmp_path: Path) -> None:
    outputs = []
    for jobs in (1, 2):
        report = tmp_path / f"r{jobs}.json"
        sarif = tmp_path / f"r{jobs}.sarif"
        done = cli(tree, jobs, "--json", str(report), "--sarif", str(sarif))
        assert done.returncode == 1, done.stderr
        data = json.loads(report.read_text())
        for result in data["results"]:
            result.pop("seconds", None)
        data.pop("seconds", None)
        data.pop("generated_at", None)
        outputs.append((done.stdout, done.stderr, json.dumps(data, sort_keys=True), sarif.read_bytes()))
    assert outputs[0] == outputs[1]
    assert b"SECRET-REAL-KEY" in outputs[0][0]
    assert_no_leak("\n".join(part.decode() if isinstance(part, bytes) else part for part in outputs[0]), corpus)


def test_an_unreadable_file_in_a_worker_is_one_located_line(tmp_path: Path) -> None:
    write(tmp_path, {"overlay-parity.toml": 'fixture = "fixtures"\n',
                     **{f"fixtures/f{i:03}.yaml": f"a: {i}\n" for i in range(300)}})
    unreadable = [tmp_path / "fixtures" / f"f{i:03}.yaml" for i in (150, 220, 290)]
    for path in unreadable:
        path.chmod(0)
    lines = []
    for jobs in (1, 2, 3):
        outcome = run(["scan-secrets"], cwd=tmp_path, unprivileged=True, extra_env={JOBS_ENV: str(jobs)})
        assert_one_line(outcome, file=unreadable[0], cwd=tmp_path)  # the first in scan order, as serially
        lines.append(outcome.stderr)
    assert lines[0] == lines[1] == lines[2]


def test_a_closed_pipe_stays_quiet_in_parallel(tree: Path) -> None:
    command = " ".join(f"'{part}'" for part in CLI) + " scan-secrets | head -1"
    stderr = []
    for jobs in (1, 2):
        proc = subprocess.run(["bash", "-c", command], cwd=tree, env=env(**{JOBS_ENV: str(jobs)}),
                              capture_output=True, text=True, timeout=300, check=False)
        for word in ("Traceback", "BrokenPipe", "INTERNAL"):
            assert word not in proc.stderr, proc.stderr
        assert len(proc.stdout.splitlines()) == 1
        stderr.append(proc.stderr)
    assert stderr[0] == stderr[1]  # the summary line at most, as serially


DRIVER = textwrap.dedent("""
    import os, signal, sys, time
    from harness.secrets import repository
    from harness.cli import main
    parent, real = os.getpid(), repository._scan_span
    def span(*args):
        if os.getpid() == parent:
            os.killpg(0, signal.SIGINT)  # Ctrl-C on a terminal: the whole process group
            time.sleep(30)
        time.sleep(0.05)  # the workers are busy when it comes
        return real(*args)
    repository._scan_span = span
    sys.exit(main(["scan-secrets"]))
""")


def test_ctrl_c_during_a_parallel_scan_is_one_line_and_leaves_no_process(tree: Path, tmp_path: Path) -> None:
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    proc = subprocess.Popen([sys.executable, str(driver)], cwd=tree, env=env(**{JOBS_ENV: "3"}, PYTHONPATH=str(ROOT)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert err == "overlay-parity: interrupted\n"
    assert out == ""
    left = [stat for stat in Path("/proc").glob("[0-9]*/stat") if _session(stat) == proc.pid]
    assert not left, "a worker outlived the scan"


def _session(stat: Path) -> int:
    try:
        return int(stat.read_text().rsplit(")", 1)[1].split()[3])
    except (OSError, IndexError, ValueError):
        return -1
