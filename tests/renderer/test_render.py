"""Atomic rendering: complete old tree or complete new tree, never a mix; non-owned paths untouched;
template errors located; symlinks and escapes refused; one render per overlay at a time."""

from __future__ import annotations

import datetime
import errno
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import renderer.render as render_module
from harness.errors import InputError
from harness.renderer_api import Renderer
from harness.yamlio import load_documents
from renderer.api import RENDERER, ReferenceRenderer
from renderer.render import exchange, render_lock

from .conftest import add_bootstrap, config_path, contents, snapshot

DEV = config_path("k8s-dev")


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if ".render" in p.name)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real render of k8s-dev per test worker (copied for each test that needs an overlay)."""
    out = tmp_path_factory.mktemp("pristine") / "k8s-dev"
    RENDERER.render(DEV, out)
    return out


@pytest.fixture
def overlay(tmp_path: Path, pristine: Path) -> Path:
    """A rendered k8s-dev overlay with bootstrap-owned and hand-written files added."""
    out = tmp_path / "overlays" / "k8s-dev"
    shutil.copytree(pristine, out, copy_function=shutil.copy2)
    add_bootstrap(out)
    return out


def test_renderer_implements_the_harness_interface() -> None:
    assert isinstance(RENDERER, Renderer)


def test_first_render_creates_the_overlay(tmp_path: Path) -> None:
    out = tmp_path / "new" / "k8s-dev"
    plan = RENDERER.render(DEV, out)
    files = contents(out)
    assert sorted(files) == sorted(plan.outputs())
    assert (out / "kustomization.yaml").is_file()
    assert (out / ".sops.yaml").is_file()
    assert sorted(p.name for p in out.parent.iterdir()) == ["k8s-dev"]  # no temp dir, no lock file left
    umask = os.umask(0o022)
    os.umask(umask)
    assert (out.stat().st_mode & 0o777) == 0o777 & ~umask


def test_rerender_keeps_non_owned_paths_byte_identical(overlay: Path) -> None:
    kept = {p: v for p, v in snapshot(overlay).items()
            if p.startswith(("flux-system", "docs")) or p == "README.md"}
    (overlay / "services" / "obsolete").mkdir()
    (overlay / "services" / "obsolete" / "stale.yaml").write_text("kind: ConfigMap\n")
    (overlay / "services" / "fluxcd" / "calico.yaml").write_text("tampered: true\n")
    (overlay / "stray.yaml").write_text("kind: Stray\n")
    plan = RENDERER.render(DEV, overlay)
    after = snapshot(overlay)
    for path, value in kept.items():
        assert after[path] == value, path  # bytes, mode and mtime (copy2)
    assert not (overlay / "services" / "obsolete").exists()  # renderer-owned area is rewritten
    assert b"tampered" not in (overlay / "services" / "fluxcd" / "calico.yaml").read_bytes()
    assert (overlay / "stray.yaml").read_text() == "kind: Stray\n"  # not renderer-owned: kept
    owned = {p for p in contents(overlay) if not p.startswith(("flux-system/", "docs/"))}
    assert owned == set(plan.outputs()) | {"README.md", "stray.yaml"}
    assert leftovers(overlay.parent) == []


def test_rerender_is_idempotent(overlay: Path) -> None:
    before = contents(overlay)
    RENDERER.render(DEV, overlay)
    assert contents(overlay) == before


RENDERED_AT = ("kustomization.yaml", "managed-services/alert-proxy/kustomization.yaml")


def test_rendered_at_honours_source_date_epoch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    RENDERER.render(DEV, tmp_path / "k8s-dev")
    for relative in RENDERED_AT:
        text = (tmp_path / "k8s-dev" / relative).read_text()
        assert 'opencenter.io/rendered-at: "2023-11-14T22:13:20Z"' in text, relative
    root = load_documents((tmp_path / "k8s-dev" / "kustomization.yaml").read_text(), "root")[0]
    assert root["metadata"]["annotations"]["opencenter.io/rendered-at"] == "2023-11-14T22:13:20Z"  # a str


def test_rendered_at_without_source_date_epoch_is_now_in_utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    before = datetime.datetime.now(tz=datetime.UTC).replace(microsecond=0)
    stamp = render_module.rendered_at()
    after = datetime.datetime.now(tz=datetime.UTC)
    parsed = datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC)
    assert before <= parsed <= after


@pytest.mark.parametrize("value", ["soon", "-1", "1.5", "9" * 30])
def test_malformed_source_date_epoch_fails_the_render(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      value: str) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    with pytest.raises(InputError) as info:
        RENDERER.render(DEV, tmp_path / "k8s-dev")
    assert info.value.code == "RENDER-FAILED"
    assert not (tmp_path / "k8s-dev").exists()


def _break_template(template_copy: Path, relative: str, line_text: str) -> int:
    path = template_copy / relative
    lines = path.read_text().splitlines(keepends=True)
    lines.insert(2, line_text + "\n")
    path.write_text("".join(lines))
    return 3


def test_template_error_mid_render_leaves_old_tree_byte_identical(overlay: Path, template_copy: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    line = _break_template(template_copy, "services/harbor/override-values.yaml", "x: {{ svc.no_such_option }}")
    written: list[Path] = []
    real_write = render_module._write_bytes

    def counting_write(path: Path, data: bytes) -> None:
        written.append(path)
        real_write(path, data)

    monkeypatch.setattr(render_module, "_write_bytes", counting_write)
    before = snapshot(overlay)
    with pytest.raises(InputError) as info:
        ReferenceRenderer(template_root=template_copy).render(DEV, overlay)
    error = info.value
    assert error.code == "TEMPLATE-ERROR"
    assert error.location is not None
    assert error.location.file == str(template_copy / "services/harbor/override-values.yaml")
    assert error.location.line == line
    assert "undefined variable" in error.message
    assert "no_such_option" in error.message
    assert len(written) > 20  # the failure happened after many files were already written
    assert snapshot(overlay) == before
    assert leftovers(overlay.parent) == []


def test_disk_error_mid_render_leaves_old_tree_byte_identical(overlay: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0
    real_write = render_module._write_bytes

    def failing_write(path: Path, data: bytes) -> None:
        nonlocal calls
        calls += 1
        if calls == 40:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real_write(path, data)

    monkeypatch.setattr(render_module, "_write_bytes", failing_write)
    before = snapshot(overlay)
    with pytest.raises(InputError) as info:
        RENDERER.render(DEV, overlay)
    assert info.value.code == "RENDER-FAILED"
    assert "No space left on device" in info.value.message
    assert snapshot(overlay) == before
    assert leftovers(overlay.parent) == []


def test_failure_while_copying_non_owned_files(overlay: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_copy(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", "flux-system/gotk-sync.yaml")

    monkeypatch.setattr(shutil, "copy2", failing_copy)
    before = snapshot(overlay)
    with pytest.raises(InputError) as info:
        RENDERER.render(DEV, overlay)
    assert info.value.code == "RENDER-FAILED"
    assert snapshot(overlay) == before
    assert leftovers(overlay.parent) == []


def test_failure_of_the_swap_itself(overlay: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_exchange(first: Path, second: Path) -> bool:
        raise OSError(errno.EIO, "Input/output error", str(second))

    monkeypatch.setattr(render_module, "exchange", broken_exchange)
    before = snapshot(overlay)
    with pytest.raises(InputError, match="RENDER-FAILED"):
        RENDERER.render(DEV, overlay)
    assert snapshot(overlay) == before
    assert leftovers(overlay.parent) == []


def test_unexpected_exception_also_cleans_up(overlay: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(render_module, "_copy_through", boom)
    before = snapshot(overlay)
    with pytest.raises(RuntimeError):
        RENDERER.render(DEV, overlay)
    assert snapshot(overlay) == before
    assert leftovers(overlay.parent) == []


# ------------------------------------------------------------------------------------ template errors

@pytest.mark.parametrize(("text", "message"), [
    ("{% if %}", "syntax error"),
    ("{{ 1 // 0 }}", "ZeroDivisionError while rendering services/calico/override-values.yaml"),
    ("{{ ''.__class__.__mro__ }}", "SecurityError"),
    ("{% include '../../../../etc/passwd' %}", "template not found"),
    ("{{ svc.nothing.deeper }}", "undefined variable"),
])
def test_template_errors_are_located(tmp_path: Path, template_copy: Path, text: str, message: str) -> None:
    line = _break_template(template_copy, "services/calico/override-values.yaml", text)
    with pytest.raises(InputError) as info:
        ReferenceRenderer(template_root=template_copy).render(DEV, tmp_path / "k8s-dev")
    error = info.value
    assert error.code == "TEMPLATE-ERROR"
    assert message in error.message
    assert error.location is not None
    assert error.location.file.endswith("services/calico/override-values.yaml")
    if "not found" not in message:
        assert error.location.line == line
    assert not (tmp_path / "k8s-dev").exists()
    assert leftovers(tmp_path) == []


def test_invalid_yaml_output_is_a_template_error(tmp_path: Path, template_copy: Path) -> None:
    _break_template(template_copy, "services/calico/override-values.yaml", "broken: [unclosed")
    with pytest.raises(InputError) as info:
        ReferenceRenderer(template_root=template_copy).render(DEV, tmp_path / "k8s-dev")
    assert info.value.code == "TEMPLATE-ERROR"
    assert "renders invalid YAML into services/calico/override-values.yaml" in info.value.message


def test_template_error_messages_mask_secret_values(tmp_path: Path, template_copy: Path) -> None:
    path = template_copy / "customer-managed" / "sources" / "secret.yaml"
    path.write_text(path.read_text().replace("{{ credentials.identity | scalar }}",
                                             "{{ secrets.customer_managed[credentials.identity] }}"))
    with pytest.raises(InputError) as info:
        ReferenceRenderer(template_root=template_copy).render(config_path("k8s-uat"), tmp_path / "k8s-uat")
    assert info.value.code == "TEMPLATE-ERROR"
    assert "PLACEHOLDER" not in info.value.one_line()
    assert "<redacted sha256:" in info.value.message


def test_symlinked_template_is_refused_at_render_time(tmp_path: Path, template_copy: Path) -> None:
    path = template_copy / "services" / "calico" / "override-values.yaml"
    real = tmp_path / "outside.yaml"
    shutil.move(path, real)
    path.symlink_to(real)
    with pytest.raises(InputError) as info:
        ReferenceRenderer(template_root=template_copy).render(DEV, tmp_path / "k8s-dev")
    assert info.value.code == "FILE-SYMLINK"


def test_copy_mode_copies_bytes(tmp_path: Path, template_copy: Path, descriptor_copy: Path) -> None:
    raw = b"# {{ not rendered }}\nkind: ConfigMap\n"
    (template_copy / "services" / "calico" / "raw.yaml").write_bytes(raw)
    descriptor = descriptor_copy / "calico.yaml"
    text = descriptor.read_text().replace("    output: services/calico\n",
                                          "    output: services/calico\n    excludes: [raw.yaml]\n")
    descriptor.write_text(text.replace("aggregate_targets:", "  - template: services/calico/raw.yaml\n"
                                       "    output: services/calico/raw.yaml\n    render: false\naggregate_targets:"))
    renderer = ReferenceRenderer(template_root=template_copy, descriptor_root=descriptor_copy)
    plan = renderer.render(DEV, tmp_path / "k8s-dev")
    assert (tmp_path / "k8s-dev" / "services" / "calico" / "raw.yaml").read_bytes() == raw
    action = next(a for a in plan.actions if a.output == "services/calico/raw.yaml")
    assert action.mode == "copy"


# ---------------------------------------------------------------------------------- refusals

def test_symlink_in_the_overlay_is_refused(overlay: Path, tmp_path: Path) -> None:
    (overlay / "flux-system" / "link.yaml").symlink_to(tmp_path / "elsewhere.yaml")
    before = snapshot(overlay)
    with pytest.raises(InputError) as info:
        RENDERER.render(DEV, overlay)
    assert info.value.code == "FILE-SYMLINK"
    assert snapshot(overlay) == before


def test_symlinked_directory_in_the_overlay_is_refused(overlay: Path, tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (overlay / "services" / "linked").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(InputError, match="FILE-SYMLINK"):
        RENDERER.render(DEV, overlay)


def test_output_directory_symlink_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "k8s-dev").symlink_to(real)
    with pytest.raises(InputError) as info:
        RENDERER.render(DEV, tmp_path / "k8s-dev")
    assert info.value.code == "FILE-SYMLINK"
    assert list(real.iterdir()) == []


def test_output_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "k8s-dev").write_text("not a directory\n")
    with pytest.raises(InputError, match="USAGE"):
        RENDERER.render(DEV, tmp_path / "k8s-dev")


def test_symlinked_lock_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / ".k8s-dev.render.lock").symlink_to(tmp_path / "target")
    with pytest.raises(InputError) as info:
        RENDERER.render(DEV, tmp_path / "k8s-dev")
    assert info.value.code == "FILE-SYMLINK"
    assert not (tmp_path / "target").exists()


def test_nothing_is_written_outside_the_output_root(tmp_path: Path) -> None:
    parent = tmp_path / "overlays"
    parent.mkdir()
    (parent / "k8s-qa").mkdir()
    (parent / "k8s-qa" / "keep.txt").write_text("other cluster\n")
    RENDERER.render(DEV, parent / "k8s-dev")
    assert sorted(p.name for p in parent.iterdir()) == ["k8s-dev", "k8s-qa"]
    assert contents(parent / "k8s-qa") == {"keep.txt": b"other cluster\n"}


# ------------------------------------------------------------------------------------ swap + lock

def test_exchange_swaps_two_directories(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one").write_text("1")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "two").write_text("2")
    assert exchange(tmp_path / "a", tmp_path / "b"), "renameat2(RENAME_EXCHANGE) must work on Linux"
    assert (tmp_path / "a" / "two").is_file()
    assert (tmp_path / "b" / "one").is_file()


def test_fallback_without_exchange(overlay: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render_module, "exchange", lambda first, second: False)
    bootstrap = contents(overlay / "flux-system")
    (overlay / "services" / "fluxcd" / "calico.yaml").write_text("tampered: true\n")
    RENDERER.render(DEV, overlay)
    assert b"tampered" not in (overlay / "services" / "fluxcd" / "calico.yaml").read_bytes()
    assert contents(overlay / "flux-system") == bootstrap
    assert leftovers(overlay.parent) == []


def test_recovery_after_an_interrupted_fallback_swap(overlay: Path) -> None:
    bootstrap = contents(overlay / "flux-system")
    parent = overlay.parent
    # interrupted between "overlay -> .render-old" and "new -> overlay": the overlay is missing
    os.rename(overlay, parent / ".k8s-dev.render-old")
    (parent / ".k8s-dev.render-new-dead").mkdir()
    (parent / ".k8s-dev.render-new-dead" / "partial.yaml").write_text("x: 1\n")
    RENDERER.render(DEV, overlay)
    assert contents(overlay / "flux-system") == bootstrap  # the previous tree was restored, then re-rendered
    assert leftovers(parent) == []


def test_recovery_after_an_interrupted_cleanup(overlay: Path) -> None:
    parent = overlay.parent
    shutil.copytree(overlay, parent / ".k8s-dev.render-old")
    before = contents(overlay)
    RENDERER.render(DEV, overlay)
    assert contents(overlay) == before
    assert leftovers(parent) == []


def test_second_render_fails_when_the_lock_is_held(overlay: Path) -> None:
    before = snapshot(overlay)
    renderer = ReferenceRenderer(lock_timeout=0.2)
    with render_lock(overlay, timeout=1):
        started = time.monotonic()
        with pytest.raises(InputError) as info:
            renderer.render(DEV, overlay)
        assert time.monotonic() - started >= 0.2
    assert info.value.code == "RENDER-LOCKED"
    assert snapshot(overlay) == before


def test_second_render_waits_for_the_lock(overlay: Path) -> None:
    released = threading.Event()

    def hold() -> None:
        with render_lock(overlay, timeout=1):
            held.set()
            time.sleep(0.3)
        released.set()

    held = threading.Event()
    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    RENDERER.render(DEV, overlay)
    assert released.is_set()  # the render only ran after the holder let go
    holder.join()


def test_concurrent_renders_never_interleave(tmp_path: Path) -> None:
    out = tmp_path / "k8s-dev"
    RENDERER.render(DEV, out)
    expected = contents(out)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(2):
                RENDERER.render(DEV, out)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert contents(out) == expected
    assert leftovers(tmp_path) == []


# ---------------------------------------------------------------------------------- single service

def _changed(before: dict[str, bytes], after: dict[str, bytes]) -> set[str]:
    return {p for p in set(before) | set(after) if before.get(p) != after.get(p)}


def test_single_service_render_touches_only_that_service_and_its_aggregates(
        overlay: Path, copy_config: Callable[..., Path]) -> None:
    config = copy_config("k8s-dev", ("timeout: 10m", "timeout: 20m"),
                         ("certificate:\n        enabled: true", "certificate:\n        enabled: false"))
    before = contents(overlay)
    plan = RENDERER.render(config, overlay, service="harbor")
    after = contents(overlay)
    changed = _changed(before, after)
    assert changed == {"services/fluxcd/harbor.yaml", "services/harbor/certificate.yaml",
                       "services/harbor/kustomization.yaml"}  # which no longer lists certificate.yaml
    assert "services/harbor/certificate.yaml" not in after
    assert b"timeout: 20m" in after["services/fluxcd/harbor.yaml"]
    assert b"timeout: 10m" in after["services/fluxcd/calico.yaml"]  # other services untouched
    assert {a.owner for a in plan.actions} == {"harbor", "services-fluxcd", "services-sources"}


def test_single_service_render_of_a_disabled_service_removes_it(overlay: Path,
                                                                copy_config: Callable[..., Path]) -> None:
    config = copy_config("k8s-dev", ("harbor:\n      enabled: true", "harbor:\n      enabled: false"))
    before = contents(overlay)
    RENDERER.render(config, overlay, service="harbor")
    after = contents(overlay)
    changed = _changed(before, after)
    assert {p for p in changed if not p.startswith("services/harbor/")} == {
        "services/fluxcd/harbor.yaml", "services/sources/opencenter-harbor.yaml",
        "services/fluxcd/kustomization.yaml", "services/sources/kustomization.yaml"}
    assert not (overlay / "services" / "harbor").exists()
    assert b"harbor" not in after["services/fluxcd/kustomization.yaml"]
    assert b"opencenter-harbor" not in after["services/sources/kustomization.yaml"]
    assert {p: after[p] for p in after if p.startswith("flux-system/")} == \
        {p: before[p] for p in before if p.startswith("flux-system/")}


def test_single_service_render_needs_an_existing_overlay(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        RENDERER.render(DEV, tmp_path / "k8s-dev", service="harbor")
    assert info.value.code == "USAGE"
    assert not (tmp_path / "k8s-dev").exists()


# ---------------------------------------------------------------------------------- coverage gate

def test_undeclared_template_blocks_the_render(tmp_path: Path, template_copy: Path) -> None:
    (template_copy / "services" / "sources" / "opencenter-unowned.yaml").write_text("kind: GitRepository\n")
    with pytest.raises(InputError) as info:
        ReferenceRenderer(template_root=template_copy).render(DEV, tmp_path / "k8s-dev")
    assert info.value.code == "COVERAGE-UNDECLARED"
    assert "opencenter-unowned.yaml" in info.value.one_line()
    assert not (tmp_path / "k8s-dev").exists()
    ReferenceRenderer(template_root=template_copy, check_coverage=False).render(DEV, tmp_path / "k8s-dev")
