"""Fuzzing the loaders of human-written input: cluster configs, descriptors, inventories.

For any bytes, and for any structural mutation of a real file: the loader returns a valid result or
raises InputError (never another exception); every problem is one line with a registered code; secret
values of the config are never echoed; and whatever loads satisfies the loader's promises."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from harness.errors import InputError
from harness.inventory import Inventory, parse_inventory
from harness.rules import Role
from harness.yamlio import load_documents
from renderer.config import load_config, schema_has_field
from renderer.config_model import ClusterConfig
from renderer.descriptors import Descriptor, check_output_path, is_owned_output, load_descriptor
from tests.hardening.strategies import VALUES, assert_well_formed, mutations
from tests.hardening.support import DESCRIPTORS, FIXTURE, ROOT, examples

CANARY = "PLACEHOLDER-fuzz-canary-Q7vX2mL9"
SECRET_TEXT = "zq-fuzz-secret-literal-8Kd3Wn"
YAML_NOISE = st.text(alphabet=st.sampled_from([*list("ab:- \n\t'\"[]{}&*!|>#%@,?"), "é", "\x00", "\ufeff"]),
                     max_size=200)


T = TypeVar("T")


def _load_file(load: Callable[[Path], T], path: Path, content: bytes) -> T | InputError:
    """Write ``content`` to ``path`` and load it: what the loader returns, or the InputError it raises."""
    path.write_bytes(content)
    try:
        return load(path)
    except InputError as error:
        return error


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-loaders")


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10**6)


# ------------------------------------------------------------------------------------------- configs

def _uat() -> Any:
    data = load_documents((FIXTURE / ".k8s-uat-config.yaml").read_text(encoding="utf-8"), "uat")[0]
    data["opencenter"]["cluster"]["name"] = "k8s-dev"
    data["secrets"]["customer_managed"]["customer-repository"]["identity"] = CANARY
    return data


UAT = _uat()


def _check_config(result: ClusterConfig | InputError, *secrets: str) -> None:
    if isinstance(result, InputError):
        text = "\n".join(assert_well_formed(result, codes=("CONFIG-INVALID", "CONFIG-TRUST-POLICY")))
        for secret in secrets:
            assert secret not in text
    else:
        assert result.cluster == "k8s-dev"
        assert result.meta.name
        assert result.gitops.repository.url


@examples(1.0)
@given(st.binary(max_size=400))
def test_config_loader_on_arbitrary_bytes(scratch: Path, data: bytes) -> None:
    _check_config(_load_file(load_config, scratch / ".k8s-dev-config.yaml", data))


@examples(1.0)
@given(YAML_NOISE, st.integers(0, 200))
def test_config_loader_on_yaml_noise_never_echoes_a_secret(scratch: Path, noise: str, at: int) -> None:
    text = noise[:at] + f"\nidentity: {SECRET_TEXT}\n" + noise[at:]
    _check_config(_load_file(load_config, scratch / ".k8s-dev-config.yaml", text.encode("utf-8", "surrogatepass")),
                  SECRET_TEXT)


@examples(1.5)
@given(mutations(UAT, max_edits=3))
def test_config_loader_on_mutated_configs(scratch: Path, data: Any) -> None:
    result = _load_file(load_config, scratch / ".k8s-dev-config.yaml", _dump(data).encode())
    _check_config(result, CANARY)
    if isinstance(result, ClusterConfig):
        for name, service in result.services.items():
            assert schema_has_field(f"opencenter.services.{name}.enabled")
            assert isinstance(service.enabled, bool)


@examples(0.5)
@given(st.dictionaries(st.sampled_from(["identity", "identity_pub", "known_hosts", "extra"]),
                       st.one_of(VALUES, st.just(SECRET_TEXT)), max_size=4))
def test_config_secrets_section_is_never_echoed(scratch: Path, credentials: dict[str, Any]) -> None:
    data = _uat()
    data["secrets"]["customer_managed"]["customer-repository"] = credentials | {"known_hosts": SECRET_TEXT}
    _check_config(_load_file(load_config, scratch / ".k8s-dev-config.yaml", _dump(data).encode()), SECRET_TEXT, CANARY)


# ------------------------------------------------------------------------------------------- descriptors

HARBOR = load_documents((DESCRIPTORS / "harbor.yaml").read_text(encoding="utf-8"), "harbor")[0]
KEYCLOAK = load_documents((DESCRIPTORS / "keycloak.yaml").read_text(encoding="utf-8"), "keycloak")[0]


def _check_descriptor(result: Descriptor | InputError, stem: str) -> None:
    if isinstance(result, InputError):
        assert_well_formed(result, codes=("DESCRIPTOR-INVALID",))
        return
    assert result.name == stem
    for spec in result.files:
        if not spec.templated:
            check_output_path(spec.output, what="output", file="x", line=0)
        assert ".." not in spec.output.split("/")
        assert not spec.output.startswith("/")
    for root in result.roots:
        assert is_owned_output(root.output + "/x")
        assert ".." not in root.path.split("/")
        assert not root.path.startswith("/")
    for condition in [result.enabled_when, *(f.when for f in result.files), *(r.when for r in result.roots)]:
        if condition is not None:
            assert schema_has_field(condition.field)
            assert condition.op in ("equals", "exists", "true", "false")


@examples(1.0)
@given(st.binary(max_size=300))
def test_descriptor_loader_on_arbitrary_bytes(scratch: Path, data: bytes) -> None:
    _check_descriptor(_load_file(load_descriptor, scratch / "harbor.yaml", data), "harbor")


@examples(2.0)
@given(st.sampled_from([("harbor", HARBOR), ("keycloak", KEYCLOAK)]).flatmap(
    lambda pair: st.tuples(st.just(pair[0]), mutations(pair[1], max_edits=2))))
def test_descriptor_loader_on_mutated_descriptors(scratch: Path, case: tuple[str, Any]) -> None:
    stem, data = case
    _check_descriptor(_load_file(load_descriptor, scratch / f"{stem}.yaml", _dump(data).encode()), stem)


# ------------------------------------------------------------------------------------------- inventories

REAL_INVENTORY = load_documents((ROOT / "canonicalization" / "relaypoint-logistics-shared.yaml").read_text(
    encoding="utf-8"), "inventory")[0] if (ROOT / "canonicalization" / "relaypoint-logistics-shared.yaml").exists() \
    else {"version": "1.0.0", "defaults": []}

PATHS = st.one_of(st.sampled_from(["services/**", "/kustomization.yaml", "services/fluxcd/*.yaml", "README.md",
                                   "a//b", "../x", "[a-", "!x", "flux-system/x", "x/", "**", "\\", "a\\*b",
                                   "services/harbor/override-values.yaml"]),
                  st.text(alphabet="ab/*?[]!\\.-", min_size=1, max_size=12))
POINTERS = st.one_of(st.sampled_from(["/metadata/name", "/a~1b", "/a~2b", "", "x", "/-", "/spec/0", "/~"]),
                     st.text(alphabet="/ab~012-", max_size=10))
RULES = st.fixed_dictionaries(
    {"id": st.sampled_from(["r1", "r2", "r3", "bad id", ""]),
     "kind": st.sampled_from(["alias", "ignore_rendered", "ignore_fixture", "path_only", "yaml_remove", "other"]),
     "path": PATHS, "rationale": st.sampled_from(["why", " "]), "approved_by": st.just("owner")},
    optional={"to": PATHS, "pointers": st.lists(POINTERS, max_size=3), "match_kind": st.sampled_from(
        ["Kustomization", "v1/Secret", "a/b/c/D", "9x"]), "extra": VALUES})
INVENTORIES = st.fixed_dictionaries(
    {"version": st.sampled_from(["1.0.0", "1.0", 1, "2.0.0-rc.1"])},
    optional={"fixture": st.text(max_size=8), "path_only_budget": st.sampled_from([0, 2, -1, "x"]),
              "defaults": st.lists(RULES, max_size=4),
              "clusters": st.dictionaries(st.sampled_from(["k8s-dev", "k8s-uat", "Bad_Name"]),
                                          st.lists(RULES, max_size=3), max_size=2)})


def _parse_inventory(text: str) -> Inventory | InputError:
    try:
        return parse_inventory(text, "inventory.yaml")
    except InputError as error:
        return error


def _check_inventory(result: Inventory | InputError) -> None:
    if isinstance(result, InputError):
        assert_well_formed(result, codes=("INVENTORY-INVALID", "INVENTORY-CONFLICT", "INVENTORY-SECURITY-HIDDEN"))
        return
    for cluster in ("k8s-dev", "k8s-uat", "k8s-other", ""):
        rules = result.rules_for(cluster)
        for path in ("services/fluxcd/harbor.yaml", "README.md", "kustomization.yaml", "a/b"):
            rules.rules_matching(path)
            rules.matching(Role.NORMALIZE, path)
    sources = [r.path for r in result.all_rules() if r.kind == "alias"]
    for rule in result.all_rules():
        if rule.kind == "alias":
            assert rule.to
            assert ".." not in rule.to.split("/")
            assert "*" not in rule.path
        assert not rule.path.lstrip("/").startswith("flux-system")
    assert result.version
    assert result.rules_digest().startswith("sha256:")
    assert len(sources) >= 0


@examples(1.0)
@given(st.text(max_size=300))
def test_inventory_loader_on_arbitrary_text(text: str) -> None:
    _check_inventory(_parse_inventory(text))


@examples(2.0)
@given(INVENTORIES)
def test_inventory_loader_on_generated_inventories(data: dict[str, Any]) -> None:
    _check_inventory(_parse_inventory(_dump(data)))


@examples(1.0)
@given(mutations(REAL_INVENTORY, max_edits=2))
def test_inventory_loader_on_mutated_real_inventory(data: Any) -> None:
    _check_inventory(_parse_inventory(_dump(data)))
