"""No secret leaves: distinct canary values are planted where secrets live, every face runs, and no canary
appears -- raw, or base64 (standard or URL-safe alphabet, at each of the three byte alignments), or hex --
in any stdout, stderr, report or other file a face writes. Findings show masked values and fingerprints.

Where the canaries are (a copy of the bundled fixture and its configs):
- the k8s-uat config's ``secrets`` (``emit_secret: true``): identity, identity_pub, known_hosts;
- the k8s-uat oracle's customer Secret: a non-placeholder ``stringData.identity``, a number-like
  ``stringData.pin`` (YAML 1.1 float) and a base64 ``data`` value (the rendered Secret, from the config,
  deliberately mismatches it);
- a credential-looking key (``adminPassword``) in a k8s-uat oracle values file;
- configs that fail: a literal secret (trust policy), a syntax error and a duplicate key on a secret's
  line, a template whose error message would quote a secret, a renderer that raises (INTERNAL), and an
  external renderer command whose error output quotes a secret.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from harness.errors import InputError, InputErrors
from harness.redact import fingerprint, masked
from renderer.config import load_config
from tests.hardening.support import (
    DESCRIPTORS,
    FIXTURE,
    LOCAL_RENDERER,
    ROOT,
    TEMPLATES,
    run_cli,
)
from tests.support.trees import replace_once

pytest_plugins = ("pytester",)

CANARIES = {
    "config-identity": "PLACEHOLDER-canary-cfg-identity-7Qx3Lr9Vt2Kp",
    "config-identity-pub": "PLACEHOLDER-canary-cfg-pub-4Gd8Hs1Mz6Wc",
    "config-known-hosts": "PLACEHOLDER-canary-cfg-hosts-9Tb2Nf5Jk3Qr",
    "fixture-identity": "canary-fixture-identity-Zm8Wq4Hn6Rb1",
    "fixture-data": "canary-fixture-data-Jd5Tc7Ye2Nx9",
    "fixture-password": "canary-fixture-password-Ua3Vk8Pm4Ls6",
    "trust-literal": "canary-literal-known-hosts-Gh2Bw7Qe5Zr3",
    "yaml-error": "canary-yaml-error-Xk4Np8Lt1Vs5",
    "duplicate-key": "canary-duplicate-key-Rb6Mw2Hd9Qf4",
    "internal-error": "canary-internal-error-Pz7Cj3Wn8Ky2",
    "command-stderr": "canary-lowercase-known-hosts-entry-for-the-command",
    "fixture-float": "31415e9265",  # a YAML 1.1 float without a dot: ruamel warns, quoting it, unless silenced
}
UAT_SECRET = "customer-managed/sources/customer-repository-rpl-apps-flux-k8s.yaml"
UAT_VALUES = "services/keycloak/override-values.yaml"


def encodings(secret: str) -> set[str]:
    """The text forms of ``secret`` a leak could take: raw, hex, and the base64 characters it produces at
    each byte alignment in both alphabets (edge characters that depend on neighbouring bytes dropped)."""
    raw = secret.encode("utf-8")
    forms = {secret, raw.hex()}
    for k in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            text = encode(b"\0" * k + raw).decode("ascii").rstrip("=")
            forms.add(text[-(-8 * k // 6): (8 * (k + len(raw))) // 6])
    return forms


def assert_no_canary(text: str, where: str) -> None:
    for name, secret in CANARIES.items():
        for form in encodings(secret):
            assert form not in text, f"canary {name} leaked as {form!r} in {where}"


def assert_no_canary_in_files(root: Path, *, skip: tuple[Path, ...] = ()) -> int:
    """Every file under ``root`` (except the ``skip`` trees); returns how many were read."""
    count = 0
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.is_symlink() or any(path.is_relative_to(s) for s in skip):
            continue
        assert_no_canary(path.read_bytes().decode("utf-8", "replace"), str(path))
        count += 1
    return count


def assert_clean(proc: subprocess.CompletedProcess[str], what: str) -> None:
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    assert_no_canary(proc.stdout, f"{what} stdout")
    assert_no_canary(proc.stderr, f"{what} stderr")


# ------------------------------------------------------------------------------------------- project

def _plant(root: Path) -> None:
    fixture = root / "fixture"
    uat_config = fixture / ".k8s-uat-config.yaml"
    for old, name in (("PLACEHOLDER-NOT-A-REAL-PRIVATE-KEY", "config-identity"),
                      ("PLACEHOLDER-NOT-A-REAL-PUBLIC-KEY", "config-identity-pub"),
                      ("PLACEHOLDER-NOT-A-REAL-KNOWN-HOSTS-ENTRY", "config-known-hosts")):
        replace_once(uat_config, old, CANARIES[name])
    overlay = fixture / "applications" / "overlays" / "k8s-uat"
    secret = overlay / UAT_SECRET
    replace_once(secret, "identity: PLACEHOLDER-NOT-A-REAL-PRIVATE-KEY", f"identity: {CANARIES['fixture-identity']}")
    encoded = base64.b64encode(CANARIES["fixture-data"].encode()).decode()
    text = secret.read_text(encoding="utf-8")
    text = text.replace("stringData:\n", f"stringData:\n  pin: {CANARIES['fixture-float']}\n")
    secret.write_text(text + f"data:\n  token: {encoded}\n", encoding="utf-8")
    values = overlay / UAT_VALUES
    values.write_text(values.read_text(encoding="utf-8") + f"adminPassword: {CANARIES['fixture-password']}\n",
                      encoding="utf-8")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the bundled fixture, configs and inventory with the canaries planted (one per process)."""
    root = tmp_path_factory.mktemp("canary") / "repo"
    shutil.copytree(FIXTURE, root / "fixture", symlinks=True)
    shutil.copy2(ROOT / "canonicalization" / "relaypoint-logistics-shared.yaml", root / "inventory.yaml")
    (root / "pyproject.toml").write_text(textwrap.dedent(f"""\
        [tool.overlay-parity]
        fixture = "fixture"
        inventory = "inventory.yaml"
        renderer = "renderer.api:RENDERER"
        template_root = "{TEMPLATES}"
        descriptor_root = "{DESCRIPTORS}"
        fixture_globs = ["fixture/**"]
        """), encoding="utf-8")
    _plant(root)
    return root


@pytest.fixture
def project(template: Path, tmp_path: Path) -> Path:
    """A private copy of the canary project (faces write reports next to it, under ``out/``)."""
    root = tmp_path / "repo"
    shutil.copytree(template, root, symlinks=True)
    (root / "out").mkdir()
    return root


def cli(project: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    proc = run_cli(list(args), cwd=project)
    assert_clean(proc, " ".join(map(str, args[:2])))
    return proc


def reports(project: Path) -> int:
    return assert_no_canary_in_files(project / "out")


# ------------------------------------------------------------------------------------------- faces

def test_check_text_json_junit_sarif(project: Path) -> None:
    proc = cli(project, "check", "--json", "out/check.json", "--junit", "out/check.xml", "--sarif", "out/check.sarif")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert UAT_SECRET in proc.stdout
    assert "PARITY-CONTENT" in proc.stdout
    assert masked(CANARIES["fixture-identity"]) in proc.stdout  # masked value with its fingerprint
    assert masked(CANARIES["config-identity"]) in proc.stdout
    assert masked(CANARIES["fixture-password"]) in proc.stdout
    verbose = cli(project, "check", "-v", "--cluster", "k8s-uat")
    assert verbose.returncode == 1
    assert reports(project) == 3
    merged = cli(project, "merge-reports", "out/merged.json", "out/check.json", "--junit", "out/merged.xml",
                 "--sarif", "out/merged.sarif", "-v")
    assert merged.returncode == 1, merged.stderr
    assert reports(project) == 6


def test_markdown_html_and_job_summary(project: Path) -> None:
    """The reviewer faces (issue 15): Markdown, the GitHub job summary and HTML of check, merge-reports,
    scan-secrets and policy show masked values and fingerprints, never a canary."""
    faces = ("--markdown", "out/{0}.md", "--html", "out/{0}.html", "--github-summary")
    summary = {"GITHUB_STEP_SUMMARY": str(project / "out" / "summary.md")}

    def run(name: str, *args: str) -> subprocess.CompletedProcess[str]:
        proc = run_cli([*args, *(part.format(name) for part in faces)], cwd=project, extra_env=summary)
        assert_clean(proc, name)
        return proc

    assert run("check", "check", "--json", "out/check.json").returncode == 1
    markdown = (project / "out" / "check.md").read_text(encoding="utf-8")
    html = (project / "out" / "check.html").read_text(encoding="utf-8")
    assert UAT_SECRET in markdown
    assert masked(CANARIES["fixture-identity"]) in markdown  # the diff is there, masked
    assert masked(CANARIES["fixture-password"]).replace("<", "&lt;").replace(">", "&gt;") in html
    assert run("merged", "merge-reports", "out/merged.json", "out/check.json").returncode == 1
    assert run("secrets", "scan-secrets").returncode == 1
    assert fingerprint(CANARIES["fixture-identity"]) in (project / "out" / "secrets.md").read_text(encoding="utf-8")
    assert run("policy", "policy", "--cluster", "k8s-uat").returncode in (0, 1)
    assert (project / "out" / "summary.md").read_text(encoding="utf-8").count("## overlay-parity ") == 4
    assert reports(project) == 11  # 4 Markdown, 4 HTML, the summary, check.json and merged.json


def test_diff_and_explain(project: Path) -> None:
    for path in (UAT_SECRET, UAT_VALUES):
        diff = cli(project, "diff", "--cluster", "k8s-uat", path)
        assert diff.returncode == 1, diff.stderr
        assert "<redacted sha256:" in diff.stdout
        for flag in ((), ("--json",)):
            explain = cli(project, "explain", "--cluster", "k8s-uat", path, *flag)
            assert explain.returncode == 0, explain.stderr


def test_render_diagnostics(project: Path) -> None:
    out = project / "out" / "rendered" / "k8s-uat"
    proc = cli(project, "render", "--config", "fixture/.k8s-uat-config.yaml", "--out", out, "--diagnostics",
               "out/plan.json")
    assert proc.returncode == 0, proc.stderr
    # the rendered Secret holds the config's values by design; every other written file must not
    assert_no_canary_in_files(project / "out", skip=(out,))
    assert CANARIES["config-identity"] in (out / UAT_SECRET).read_text(encoding="utf-8")
    plan = json.loads((project / "out" / "plan.json").read_text(encoding="utf-8"))
    assert plan["actions"]
    assert plan["decisions"]


def test_policy(project: Path) -> None:
    proc = cli(project, "policy", "--cluster", "k8s-uat", "--json", "out/policy.json", "-v")
    assert proc.returncode in (0, 1), proc.stderr
    assert reports(project) == 1


def test_scan_secrets(project: Path) -> None:
    proc = cli(project, "scan-secrets", "--json", "out/secrets.json", "--sarif", "out/secrets.sarif")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "SECRET-NOT-PLACEHOLDER" in proc.stdout
    assert fingerprint(CANARIES["fixture-identity"]) in proc.stdout  # fingerprints, never values
    assert fingerprint(base64.b64encode(CANARIES["fixture-data"].encode()).decode()) in proc.stdout
    assert reports(project) == 2


@pytest.mark.parametrize("extra", [(), ("-p", "xdist", "-n", "2")], ids=["serial", "xdist"])
def test_pytest_parity_verbose_long_tracebacks(project: Path, pytester: pytest.Pytester,
                                               extra: tuple[str, ...]) -> None:
    shutil.copytree(project, pytester.path, dirs_exist_ok=True, symlinks=True)
    result = pytester.runpytest_subprocess("--parity", "-vv", "--tb=long", "-rA", "--parity-cluster", "k8s-uat",
                                           "--parity-report", "out/pytest.json", *extra, timeout=600)
    text = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in text
    assert_no_canary(text, "pytest --parity output")
    assert result.ret == pytest.ExitCode.TESTS_FAILED, text[-3000:]
    assert "parity[k8s-uat]" in text
    assert "<redacted sha256:" in text
    assert assert_no_canary_in_files(pytester.path / "out") == 1


# ------------------------------------------------------------------------------------------- failures

def _bad_config(project: Path, old: str, new: str) -> Path:
    config = project / "fixture" / ".k8s-uat-config.yaml"
    replace_once(config, old, new)
    return config


BAD_CONFIGS = {
    "trust-literal": (CANARIES["config-known-hosts"], CANARIES["trust-literal"], "CONFIG-TRUST-POLICY"),
    "yaml-error": (f"identity: {CANARIES['config-identity']}", f"identity: \"{CANARIES['yaml-error']}\n  x: [",
                   "YAML-INVALID"),
    "duplicate-key": (f"identity: {CANARIES['config-identity']}",
                      f"identity: {CANARIES['config-identity']}\n      identity: {CANARIES['duplicate-key']}",
                      "YAML-DUPLICATE-KEY"),
}


@pytest.mark.parametrize("name", sorted(BAD_CONFIGS))
def test_input_errors_with_a_canary_in_scope(project: Path, name: str) -> None:
    old, new, code = BAD_CONFIGS[name]
    config = _bad_config(project, old, new)
    render = cli(project, "render", "--config", config, "--out", "out/rendered/k8s-uat")
    assert render.returncode == 2, render.stderr
    assert f" {code}: " in render.stderr, render.stderr
    check = cli(project, "check", "--cluster", "k8s-uat", "--json", "out/check.json", "--sarif", "out/check.sarif")
    assert check.returncode == 1, check.stdout
    assert "PARITY-RENDER-ERROR" in check.stdout, check.stdout
    assert reports(project) == 2
    with pytest.raises(InputError) as info:
        load_config(config)
    error = info.value
    texts = [str(error), repr(error), error.one_line(), error.message, error.hint, str(error.args)]
    if isinstance(error, InputErrors):
        texts += error.lines()
    assert_no_canary("\n".join(texts), f"{name} exception")


RAISING_RENDERER = textwrap.dedent(f'''\
    """A renderer whose failure text carries a secret: the CLI must print the exception type only."""
    class Raising:
        def render(self, config_path, out_dir, *, service=None):
            raise RuntimeError("identity is {CANARIES["internal-error"]}")

    RENDERER = Raising()
    ''')


def test_internal_error_prints_the_type_only(project: Path, pytester: pytest.Pytester) -> None:
    (project / "raising_renderer.py").write_text(RAISING_RENDERER, encoding="utf-8")
    config = project / "fixture" / ".k8s-uat-config.yaml"
    proc = cli(project, "render", "--config", config, "--out", "out/r/k8s-uat", "--renderer",
               "raising_renderer:RENDERER")
    assert proc.returncode == 3
    assert proc.stderr.strip() == ("overlay-parity: INTERNAL: unexpected RuntimeError (fix: rerun with --debug and "
                                   "report it)")
    check = cli(project, "check", "--cluster", "k8s-uat", "--renderer", "raising_renderer:RENDERER",
                "--json", "out/check.json")
    assert check.returncode == 3
    shutil.copytree(project, pytester.path, dirs_exist_ok=True, symlinks=True)
    result = pytester.runpytest_subprocess("--parity", "-vv", "--tb=long", "--parity-cluster", "k8s-uat",
                                           "--parity-renderer", "raising_renderer:RENDERER", "-k", "parity",
                                           timeout=300)
    text = result.stdout.str() + result.stderr.str()
    assert_no_canary(text, "pytest --parity with a raising renderer")
    assert "INTERNAL" in text
    assert "RuntimeError" in text
    assert_no_canary_in_files(project / "out")


def test_external_renderer_error_output_is_redacted(project: Path) -> None:
    """An external renderer (a command) that quotes a config secret in its error output: the one-line
    RENDERER-INVALID error and the PARITY-RENDER-ERROR finding show it masked."""
    script = project / "failing_renderer.py"
    script.write_text(textwrap.dedent("""\
        import re, sys
        config = open(sys.argv[sys.argv.index("--config") + 1], encoding="utf-8").read()
        value = re.search(r"known_hosts: (\\S+)", config).group(1)
        print("loading config", file=sys.stderr)
        print(f"error: known_hosts entry {value} is not accepted", file=sys.stderr)
        sys.exit(4)
        """), encoding="utf-8")
    config = project / "fixture" / ".k8s-uat-config.yaml"
    replace_once(config, CANARIES["config-known-hosts"], CANARIES["command-stderr"])
    command = f"python3 {script} --config {{config}} --out {{out}}"
    proc = cli(project, "render", "--config", config, "--out", "out/r/k8s-uat", "--renderer", command)
    assert proc.returncode == 2
    assert "RENDERER-INVALID" in proc.stderr
    assert masked(CANARIES["command-stderr"]) in proc.stderr
    check = cli(project, "check", "--cluster", "k8s-uat", "--renderer", command, "--json", "out/check.json")
    assert check.returncode == 1
    assert "PARITY-RENDER-ERROR" in check.stdout
    assert_no_canary_in_files(project / "out")


def test_template_error_never_quotes_a_secret(project: Path) -> None:
    shutil.copytree(TEMPLATES, project / "templates")
    shutil.copytree(DESCRIPTORS, project / "descriptors")
    (project / "local_renderer.py").write_text(LOCAL_RENDERER, encoding="utf-8")
    template = project / "templates" / "customer-managed" / "sources" / "secret.yaml"
    if not template.exists():  # find the Secret template whatever its name
        template = next(p for p in (project / "templates" / "customer-managed").rglob("*.yaml")
                        if "kind: Secret" in p.read_text(encoding="utf-8"))
    lines = template.read_text(encoding="utf-8").splitlines(keepends=True)
    lines.insert(1, "# {{ {}[secrets.customer_managed[customer_managed.repository_name].identity] }}\n")
    template.write_text("".join(lines), encoding="utf-8")
    proc = cli(project, "render", "--config", "fixture/.k8s-uat-config.yaml", "--out", "out/r/k8s-uat",
               "--renderer", "local_renderer:RENDERER")
    assert proc.returncode == 2, proc.stderr
    assert "TEMPLATE-ERROR" in proc.stderr, proc.stderr
    assert masked(CANARIES["config-identity"]) in proc.stderr  # the value is named by fingerprint only

