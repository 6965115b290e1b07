"""Loaded objects remembered across processes (harness.pickle_memo), through its two users: inventories (the
same text, name and kinds load without parsing; anything else, a bad inventory, a damaged or linked cache
file is parsed again) and service descriptor sets."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from harness import inventory as inventory_module
from harness.errors import InputError
from harness.inventory import load_inventory
from tests.harness.conftest import inventory_text, rule

TEXT = inventory_text(rule("notes", "ignore_fixture", "**/NOTES.md"),
                      "k8s-dev:\n  - " + rule("extra", "ignore_fixture", "services/extra.yaml").lstrip("- "))


@pytest.fixture
def parses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Caching on in a fresh directory; every real parse recorded."""
    monkeypatch.setenv("OVERLAY_PARITY_CACHE_DIR", str(tmp_path / "cache"))
    calls: list[str] = []
    parse = inventory_module.parse_inventory

    def counted(text: str, name: str, **kwargs: object) -> inventory_module.Inventory:
        calls.append(name)
        return parse(text, name, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(inventory_module, "parse_inventory", counted)
    return calls


def _write(tmp_path: Path, text: str = TEXT) -> Path:
    path = tmp_path / "canon.yaml"
    path.write_text(text)
    return path


def _kept(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache" / inventory_module.MEMO_FOLDER).glob("*.pickle"))


def test_the_same_inventory_loads_without_parsing(tmp_path: Path, parses: list[str]) -> None:
    path = _write(tmp_path)
    first = load_inventory(path, display="canon.yaml")
    second = load_inventory(path, display="canon.yaml")
    assert parses == ["canon.yaml"]
    assert [r.to_dict() for r in second.all_rules()] == [r.to_dict() for r in first.all_rules()]
    assert (second.file, second.version, second.fixture) == (first.file, first.version, first.fixture)
    assert [r.id for r in second.rules_for("k8s-dev").rules] == ["notes", "extra"]
    assert oct(_kept(tmp_path)[0].stat().st_mode & 0o777) == "0o600"
    load_inventory(path, display="other/canon.yaml")  # rules carry the name they are shown by
    load_inventory(path, display="canon.yaml", security_kinds=["apps/Deployment"])
    _write(tmp_path, TEXT.replace("NOTES.md", "NOTES.txt"))
    assert load_inventory(path, display="canon.yaml").rule("notes").path == "**/NOTES.txt"
    assert parses == ["canon.yaml", "other/canon.yaml", "canon.yaml", "canon.yaml"]


def test_a_bad_inventory_is_never_kept(tmp_path: Path, parses: list[str]) -> None:
    path = _write(tmp_path, TEXT.replace("version: 1.0.0", "version: one"))
    for _ in range(2):
        with pytest.raises(InputError, match="INVENTORY-INVALID"):
            load_inventory(path, display="canon.yaml")
    assert len(parses) == 2
    assert _kept(tmp_path) == []


@pytest.mark.parametrize("damage", ["garbage", "foreign", "symlink"])
def test_damaged_foreign_or_linked_files_are_not_loaded(tmp_path: Path, parses: list[str], damage: str) -> None:
    path = _write(tmp_path)
    load_inventory(path, display="canon.yaml")
    (kept,) = _kept(tmp_path)
    if damage == "garbage":
        kept.write_bytes(b"\x80\x05not a pickle")
    elif damage == "foreign":
        kept.write_bytes(pickle.dumps({"not": "an inventory"}))
    else:
        target = tmp_path / "elsewhere.pickle"
        kept.rename(target)
        kept.symlink_to(target)
    assert load_inventory(path, display="canon.yaml").rule("notes").id == "notes"
    assert len(parses) == 2  # not loaded from the file: parsed
    assert not kept.is_symlink()  # replaced by a regular file of the new load
    load_inventory(path, display="canon.yaml")
    assert len(parses) == 2  # which the next load uses


def test_nothing_is_kept_when_caching_is_off(tmp_path: Path, parses: list[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVERLAY_PARITY_CACHE_DIR", "off")
    path = _write(tmp_path)
    load_inventory(path, display="canon.yaml")
    load_inventory(path, display="canon.yaml")
    assert len(parses) == 2
    assert not (tmp_path / "cache").exists()


def test_a_descriptor_set_loads_without_parsing_until_a_file_or_the_folder_changes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from renderer import descriptors

    monkeypatch.setenv("OVERLAY_PARITY_CACHE_DIR", str(tmp_path / "cache"))
    loads: list[Path] = []
    load = descriptors.load_descriptor_files

    def counted(paths: object, *, root: Path, **kwargs: object) -> descriptors.DescriptorSet:
        loads.append(root)
        return load(paths, root=root, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(descriptors, "load_descriptor_files", counted)
    folder = tmp_path / "descriptors"
    shutil.copytree(descriptors.DESCRIPTOR_ROOT, folder)

    def fresh(root: Path) -> descriptors.DescriptorSet:
        descriptors._load_cached.cache_clear()  # as a new process
        return descriptors.load_descriptors(root)

    first = fresh(folder)
    second = fresh(folder)
    assert loads == [folder.resolve()]
    assert second.names() == first.names()
    assert second.root == first.root
    assert [d.source for d in second] == [d.source for d in first]
    moved = tmp_path / "moved"
    folder.rename(moved)  # errors name the files: another folder is another key
    assert fresh(moved).root == moved.resolve()
    one = sorted(moved.glob("*.yaml"))[0]
    one.write_text(one.read_text() + "# edited\n")
    fresh(moved)
    assert loads == [folder.resolve(), moved.resolve(), moved.resolve()]
    one.write_text(one.read_text().replace("name:", "nmae:", 1))
    with pytest.raises(InputError, match="DESCRIPTOR-INVALID"):
        fresh(moved)
    with pytest.raises(InputError, match="DESCRIPTOR-INVALID"):  # a bad set is never kept
        fresh(moved)
    assert len(loads) == 5


def test_a_descriptor_turned_into_a_fifo_is_worded_by_the_loader_not_waited_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An entry that stops being a regular file after the folder was listed: the memo's key is not worked
    out (no blocking open), and the loader refuses the file in one line."""
    import os
    import shutil
    import time

    from renderer import descriptors

    monkeypatch.setenv("OVERLAY_PARITY_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "descriptors"
    shutil.copytree(descriptors.DESCRIPTOR_ROOT, folder)
    listing = descriptors._listing(folder.resolve())
    one = folder / listing[0][0]
    one.unlink()
    os.mkfifo(one)
    started = time.monotonic()
    assert descriptors._memo_parts(folder.resolve(), [folder / name for name, _, _ in listing]) is None
    with pytest.raises(InputError):
        descriptors._load_cached(folder.resolve(), listing)
    assert time.monotonic() - started < 5
