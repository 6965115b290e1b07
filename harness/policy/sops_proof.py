"""SOPS proof (POLICY-SOPS): the ``.sops.yaml`` a cluster gets really encrypts what its rules promise.

With the real tools, in a private temp directory:

1. ``age-keygen`` makes a throw-away key pair; the recipient is read back with ``age-keygen -y``, so the
   secret key never enters this process, and it is deleted with the temp directory.
2. Either the cluster is rendered from a temp copy of its config whose every ``age_recipients`` list is
   replaced by that recipient (:func:`prove_rendered_sops`), or any ``.sops.yaml`` is copied with every
   rule's keys replaced by it (:func:`prove_sops_config`).
3. For each creation rule, a sample path the rule should match is derived from its ``path_regex``
   (:func:`sample_paths` walks the parsed regex and emits a few candidates; the first one whose *first*
   matching rule is this rule wins, since sops applies the first match). A placeholder Secret is written
   there and encrypted by ``sops --encrypt --config <.sops.yaml>``; sops matches the path relative to the
   ``.sops.yaml`` directory, as it does in a repository.
4. Checks: which fields were encrypted follows the rule's ``encrypted_regex``/``unencrypted_regex``/
   suffixes (sops semantics: a leaf is governed by every key on its path), ``data``/``stringData``
   values are ``ENC[...]`` and ``apiVersion``/``kind``/``metadata`` are not (kustomize and Flux must read
   them), the file names the generated recipient, and ``sops --decrypt`` with ``SOPS_AGE_KEY_FILE``
   gives back the original.
5. A path no rule matches (a mutation of the sample, e.g. one segment renamed) must be refused by sops
   with "no matching creation rules".

Tool output is reduced to one line and scrubbed of anything shaped like an age secret key; findings
name rules, sample paths and field names, never values.
"""

from __future__ import annotations

import base64
import io
import re
import subprocess
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from harness.errors import InputError
from harness.findings import Finding, Severity
from harness.policy.model import Policy, PolicyContext
from harness.renderer_api import Renderer, cluster_name
from harness.tools import find_tool, tool_env
from harness.user_regex import CompiledRegex, RegexError, compile_regex, regex_problem, search
from harness.yamlio import load_documents, load_file, load_roundtrip, read_text

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import sre_constants
    import sre_parse

CODE = "POLICY-SOPS"
TIMEOUT = 60.0
ENC_PREFIX = "ENC["
_AGE_SECRET = re.compile(r"AGE-SECRET-KEY-[0-9A-Za-z]+")
_AGE_RECIPIENT = re.compile(r"^age1[02-9ac-hj-np-z]{58}$")
_KEY_FIELDS = ("age", "pgp", "kms", "gcp_kms", "azure_keyvault", "hc_vault_transit_uri", "key_groups")
_REFUSED = "no matching creation rules"
_PLAIN_KEYS = ("apiVersion", "kind", "metadata")
_SECRET_KEYS = ("data", "stringData")
_UNMATCHED = "policy-proof-unmatched"
_CHAR_PREFERENCE = "xabcdefghijklmnopqrstuvwyz0123456789-_."


def proof_secret() -> dict[str, Any]:
    """The placeholder Secret every rule encrypts (values are placeholders, not secrets)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "policy-sops-proof", "namespace": "policy-sops-proof",
                     "labels": {"app.kubernetes.io/part-of": "overlay-parity"}},
        "type": "Opaque",
        "data": {"proof": base64.b64encode(b"PLACEHOLDER-sops-proof").decode("ascii")},
        "stringData": {"proof-text": "PLACEHOLDER-sops-proof-text"},
    }


def scrub(text: str, limit: int = 240) -> str:
    """Tool output as one line, without anything shaped like an age secret key."""
    line = " ".join(_AGE_SECRET.sub("[REDACTED]", text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


# --- sample paths from a regex -------------------------------------------------------------------------

class _Unsupported(Exception):
    pass


def _in_set(ch: str, items: Sequence[tuple[Any, Any]]) -> bool:
    code = ord(ch)
    for op, av in items:
        name = str(op)
        if name.startswith("LITERAL") and code == av:
            return True
        if name.startswith("RANGE") and av[0] <= code <= av[1]:
            return True
        if name == "CATEGORY":
            category = str(av)
            tests = {"DIGIT": ch.isdigit(), "WORD": ch.isalnum() or ch == "_", "SPACE": ch.isspace(),
                     "LINEBREAK": ch == "\n"}
            for key, value in tests.items():
                if category.endswith("NOT_" + key) and not value:
                    return True
                if category.endswith(key) and not category.endswith("NOT_" + key) and value:
                    return True
    return False


def _one_char(items: Sequence[tuple[Any, Any]]) -> str:
    negate = bool(items) and str(items[0][0]) == "NEGATE"
    rest = items[1:] if negate else items
    for ch in _CHAR_PREFERENCE + "".join(chr(c) for c in range(33, 127)):
        if _in_set(ch, rest) != negate:
            return ch
    raise _Unsupported("empty character class")


class _Emitter:
    """Emit one string for a parsed regex under one strategy (branch choice, repeat counts)."""

    def __init__(self, branch: int, minimal: bool, fill: str) -> None:
        self.branch = branch
        self.minimal = minimal
        self.fill = fill
        self.groups: dict[int, str] = {}

    def emit(self, pattern: Any) -> str:
        return "".join(self._node(op, av) for op, av in pattern)

    def _node(self, op: Any, av: Any) -> str:
        name = str(op)
        if name.startswith("LITERAL"):
            return chr(av)
        if name.startswith("NOT_LITERAL"):
            return self.fill if av != ord(self.fill) else "y"
        if name == "ANY":
            return self.fill
        if name == "IN" or name.startswith("IN_"):
            return _one_char(av)
        if name == "CATEGORY":
            return _one_char([(sre_constants.CATEGORY, av)])
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, high, sub = av
            count = low if self.minimal else max(low, 1)
            count = min(count, high, 8)
            return "".join(self.emit(sub) for _ in range(count))
        if name == "SUBPATTERN":
            group, _add, _del, sub = av
            text = self.emit(sub)
            if group is not None:
                self.groups[group] = text
            return text
        if name == "ATOMIC_GROUP":
            return self.emit(av)
        if name == "BRANCH":
            alternatives = av[1]
            return self.emit(alternatives[self.branch % len(alternatives)])
        if name in ("AT", "ASSERT", "ASSERT_NOT"):
            return ""  # anchors and lookarounds emit nothing; every candidate is re-checked with the regex
        if name == "GROUPREF":
            return self.groups.get(av, "")
        if name == "GROUPREF_EXISTS":
            group, yes, no = av
            return self.emit(yes if group in self.groups else (no or []))
        raise _Unsupported(name)


def _usable(path: str) -> bool:
    parts = path.split("/")
    return (0 < len(path) < 240 and not path.startswith("/") and all(parts)
            and not any(p in (".", "..") for p in parts) and all(32 < ord(c) < 127 for c in path))


def sample_paths(regex: str | None) -> list[str]:
    """Relative file paths that ``regex`` (searched, as sops does) matches, best first; [] if none derived.

    Walks the parsed regex under a few strategies (which alternative of each ``|``, repeats at their
    minimum or at least once, ``x`` or ``q`` for a wildcard), then tries each result as is, with ``.yaml``
    appended and with ``/example.yaml`` appended. Anchors and lookarounds emit nothing; every candidate
    is re-checked with the regex. YAML file names with a stem sort first.
    """
    if regex is None:
        return ["policy-proof/example.yaml"]
    try:
        compiled = compile_regex(regex)  # matching is RE2's (linear time), as sops's Go regexp
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            parsed = sre_parse.parse(regex)  # only to walk the pattern's structure for sample paths
    except (RegexError, re.error, RecursionError):
        return []
    raw: list[str] = []
    for fill in ("x", "q"):
        for branch in range(4):
            for minimal in (False, True):
                try:
                    raw.append(_Emitter(branch, minimal, fill).emit(parsed))
                except (_Unsupported, IndexError, TypeError, ValueError):
                    continue
    found: list[str] = []
    for text in dict.fromkeys(raw):
        for candidate in (text, text + ".yaml", text.rstrip("/") + "/example.yaml"):
            if candidate not in found and _usable(candidate) and compiled.search(candidate):
                found.append(candidate)
    return sorted(found, key=lambda p: (not p.endswith((".yaml", ".yml")), p.rsplit("/", 1)[-1].startswith(".")))


def unmatched_paths(sample: str) -> Iterator[str]:
    """Near misses of a sample path: each segment renamed (directories first from the deepest), then generic."""
    parts = sample.split("/")
    stem, dot, ext = parts[-1].rpartition(".")
    for index in range(len(parts) - 2, -1, -1):
        yield "/".join([*parts[:index], _UNMATCHED, *parts[index + 1:]])
    yield "/".join([*parts[:-1], f"{_UNMATCHED}.{ext}" if dot and stem else _UNMATCHED])
    if dot and stem:
        yield "/".join([*parts[:-1], f"{stem}.txt"])
    yield f"{_UNMATCHED}/example.yaml"
    yield "example.yaml"


# --- the proof ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Rule:
    index: int  # 0-based position in creation_rules
    raw: dict[str, Any]
    regex: str | None
    compiled: CompiledRegex | None

    def label(self) -> str:
        regex = f" (path_regex {self.regex!r})" if self.regex is not None else " (no path_regex)"
        return f"creation rule {self.index + 1}{regex}"

    def matches(self, path: str) -> bool:
        return self.regex is None or (self.compiled is not None and self.compiled.search(path) is not None)


def _matches(pattern: str, text: str) -> bool:
    """RE2 search; a pattern RE2 refuses matches nothing (it is reported when the rules are read)."""
    try:
        return search(pattern, text)
    except RegexError:
        return False


def _should_encrypt(keys: Sequence[str], rule: dict[str, Any]) -> bool:
    """sops 3.x: whether a leaf under ``keys`` gets encrypted by ``rule`` (every key on the path counts)."""
    encrypted_regex, unencrypted_regex = rule.get("encrypted_regex"), rule.get("unencrypted_regex")
    encrypted_suffix, unencrypted_suffix = rule.get("encrypted_suffix"), rule.get("unencrypted_suffix")
    if isinstance(encrypted_regex, str) and encrypted_regex:
        return any(_matches(encrypted_regex, k) for k in keys)
    if isinstance(unencrypted_regex, str) and unencrypted_regex:
        return not any(_matches(unencrypted_regex, k) for k in keys)
    if isinstance(encrypted_suffix, str) and encrypted_suffix:
        return any(k.endswith(encrypted_suffix) for k in keys)
    suffix = unencrypted_suffix if isinstance(unencrypted_suffix, str) and unencrypted_suffix else "_unencrypted"
    return not any(k.endswith(suffix) for k in keys)


def _leaves(data: Any, keys: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _leaves(value, (*keys, str(key)))
    elif isinstance(data, list):
        for value in data:
            yield from _leaves(value, keys)
    else:
        yield keys, data


def _recipients(rule: dict[str, Any]) -> set[str]:
    """Every age recipient a rule names (``age`` as list or comma-separated string, and key_groups)."""
    found: set[str] = set()

    def add(value: Any) -> None:
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                found.update(part.strip() for part in item.split(",") if part.strip())

    add(rule.get("age"))
    for group in rule.get("key_groups") or []:
        if isinstance(group, dict):
            add(group.get("age"))
    return found


class _Prover:
    """One proof run: tools, a private temp dir with the key pair, the sops config under test."""

    def __init__(self, workdir: Path, *, cluster: str, display: str) -> None:
        self.sops = find_tool("sops")
        self.keygen = find_tool("age-keygen")
        self.cluster = cluster
        self.display = display
        workdir.mkdir(parents=True, exist_ok=True)
        self._tmp = tempfile.TemporaryDirectory(prefix="sops-proof-", dir=workdir)
        self.root = Path(self._tmp.name)
        self.tree = self.root / "tree"
        self.tree.mkdir()
        home = self.root / "home"
        home.mkdir()
        self.env = {k: v for k, v in tool_env().items() if not k.startswith("SOPS_AGE_")}
        self.env.update({"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")})
        self.key_file = self.root / "age" / "keys.txt"
        self.recipient = ""

    def close(self) -> None:
        self._tmp.cleanup()

    def finding(self, message: str, *, severity: Severity = Severity.ERROR, hint: str = "") -> Finding:
        return Finding(code=CODE, message=message, check="policy", cluster=self.cluster, path=self.display,
                       severity=severity, hint=hint)

    def _run(self, argv: list[str], *, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, env=env or self.env,
                                  cwd=self.tree, check=False)
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(argv, 124, "", f"timed out after {TIMEOUT:.0f}s")

    def generate_key(self) -> str:
        """Make the throw-away key pair; returns the public recipient only."""
        self.key_file.parent.mkdir(mode=0o700)
        made = self._run([str(self.keygen), "-o", str(self.key_file)])
        if made.returncode != 0:
            raise InputError("TOOL-MISSING", f"age-keygen failed: {scrub(made.stderr)}", file=str(self.keygen),
                             hint="reinstall age: run `bash scripts/quickstart.sh`")
        public = self._run([str(self.keygen), "-y", str(self.key_file)])
        recipient = public.stdout.strip()
        if public.returncode != 0 or not _AGE_RECIPIENT.match(recipient):
            raise InputError("TOOL-MISSING", "age-keygen -y did not print an age recipient", file=str(self.keygen),
                             hint="reinstall age: run `bash scripts/quickstart.sh`")
        self.recipient = recipient
        return recipient

    def write_config(self, source: Path, *, rewrite: bool) -> tuple[Path, list[_Rule], list[Finding]]:
        """Copy the .sops.yaml into the tree (keys replaced by ours when ``rewrite``); parse its rules."""
        findings: list[Finding] = []
        try:
            text = read_text(source, display=self.display)
            docs = load_documents(text, self.display)
        except InputError as exc:
            return self.tree / ".sops.yaml", [], [self.finding(f"does not load: {exc.code}: {exc.message}",
                                                               hint="fix the .sops.yaml")]
        data = docs[0] if docs else None
        rules = data.get("creation_rules") if isinstance(data, dict) else None
        if not isinstance(rules, list) or not rules or not all(isinstance(r, dict) for r in rules):
            return self.tree / ".sops.yaml", [], [self.finding("has no creation_rules (a list of mappings)",
                                                               hint="generate .sops.yaml from the SOPS rules")]
        parsed: list[_Rule] = []
        for index, rule in enumerate(rules):
            regex = rule.get("path_regex")
            compiled = None
            if regex is not None:
                try:
                    compiled = compile_regex(str(regex))
                except RegexError as exc:
                    findings.append(self.finding(f"creation rule {index + 1}: path_regex {exc}",
                                                 hint="fix the regex (sops matches with Go's RE2)"))
            for key in ("encrypted_regex", "unencrypted_regex"):
                problem = regex_problem(rule[key]) if isinstance(rule.get(key), str) and rule[key] else None
                if problem is not None:
                    findings.append(self.finding(f"creation rule {index + 1}: {key} {problem}",
                                                 hint="fix the regex (sops matches with Go's RE2)"))
            parsed.append(_Rule(index, rule, None if regex is None else str(regex), compiled))
            if rewrite:
                recipients = _recipients(rule)
                if not recipients and not any(rule.get(k) for k in _KEY_FIELDS if k not in ("age", "key_groups")):
                    findings.append(self.finding(f"creation rule {index + 1} names no recipients",
                                                 hint="add age recipients to the SOPS rule"))
                bad = sorted(r for r in recipients if not _AGE_RECIPIENT.match(r))
                if bad:
                    findings.append(self.finding(f"creation rule {index + 1}: {len(bad)} malformed age recipient(s)",
                                                 hint="age recipients are age1 followed by 58 bech32 characters"))
        target = self.tree / ".sops.yaml"
        if rewrite:
            document = load_roundtrip(text, self.display)
            for rule in document["creation_rules"]:
                for key in _KEY_FIELDS:
                    rule.pop(key, None)
                rule["age"] = self.recipient
            stream = io.StringIO()
            YAML(typ="rt").dump(document, stream)
            target.write_text(stream.getvalue(), encoding="utf-8")
        else:
            target.write_text(text, encoding="utf-8")
            for rule in parsed:
                if self.recipient not in _recipients(rule.raw):
                    findings.append(self.finding(f"{rule.label()} does not carry the configured age recipient",
                                                 hint="render age recipients from overlay_units.sops.rules"))
        return target, parsed, findings

    def prove(self, config: Path, rules: list[_Rule], jobs: int = 2) -> list[Finding]:
        """Positive and negative proofs for every rule (in rule order)."""
        usable = [r for r in rules if r.regex is None or r.compiled is not None]
        if len(usable) != len(rules):
            return []  # a rule that does not compile was reported; sops would not load the file either
        samples: dict[int, str] = {}
        findings: list[Finding] = []
        for rule in rules:
            sample, problem = self._sample(rule, rules)
            if problem is not None:
                findings.append(problem)
            if sample is not None:
                samples[rule.index] = sample
        negatives: dict[str, _Rule] = {}
        for rule in rules:
            if rule.index in samples:
                for candidate in unmatched_paths(samples[rule.index]):
                    if _usable(candidate) and not any(r.matches(candidate) for r in rules):
                        negatives.setdefault(candidate, rule)
                        break
        if any(r.regex is None for r in rules):
            findings.append(self.finding("a creation rule has no path_regex (catch-all): refusal of unmatched paths "
                                         "not proven", severity=Severity.NOTE))
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            positive = [pool.submit(self._positive, config, rule, samples[rule.index])
                        for rule in rules if rule.index in samples]
            negative = [pool.submit(self._negative, config, rule, path) for path, rule in negatives.items()]
            for future in positive + negative:
                findings.extend(future.result())
        return findings

    def _sample(self, rule: _Rule, rules: list[_Rule]) -> tuple[str | None, Finding | None]:
        candidates = sample_paths(rule.regex)
        for candidate in candidates:
            first = next((r for r in rules if r.matches(candidate)), None)
            if first is not None and first.index == rule.index:
                return candidate, None
        if candidates:
            first = next(r for r in rules if r.matches(candidates[0]))
            return None, self.finding(f"{rule.label()} is shadowed: every derived sample path ({candidates[0]}) is "
                                      f"taken by creation rule {first.index + 1}, which sops applies first",
                                      severity=Severity.WARNING, hint="order rules from specific to general")
        if rule.regex is not None and rule.regex.startswith(("^/", "/")):
            return None, self.finding(f"{rule.label()} is anchored at '/': sops matches paths relative to the "
                                      ".sops.yaml directory, so this rule can never apply",
                                      hint="write path_regex relative to the overlay (e.g. ^services/...)")
        return None, self.finding(f"{rule.label()}: no sample path could be derived from the regex; the rule is "
                                  "not proven", severity=Severity.WARNING,
                                  hint="simplify the regex (literal directories, .*, character classes)")

    def _encrypt(self, config: Path, rel: str) -> subprocess.CompletedProcess[str]:
        path = self.tree / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        stream = io.StringIO()
        YAML(typ="safe", pure=True).dump(proof_secret(), stream)
        path.write_text(stream.getvalue(), encoding="utf-8")
        try:
            return self._run([str(self.sops), "--disable-version-check", "--encrypt", "--config", str(config),
                              "--input-type", "yaml", "--output-type", "yaml", str(path)])
        finally:
            path.unlink()

    def _positive(self, config: Path, rule: _Rule, sample: str) -> list[Finding]:
        where = f"{rule.label()}, sample {sample}"
        encrypted = self._encrypt(config, sample)
        if encrypted.returncode != 0:
            return [self.finding(f"{where}: sops refused to encrypt a path the rule matches: {scrub(encrypted.stderr)}",
                                 hint="sops uses Go regular expressions (RE2: no lookarounds or backreferences) "
                                      "and matches paths relative to the .sops.yaml directory")]
        try:
            docs = load_documents(encrypted.stdout, f"sops output for {sample}")
        except InputError as exc:
            return [self.finding(f"{where}: sops output does not parse ({exc.code})")]
        output = docs[0] if docs and isinstance(docs[0], dict) else {}
        findings = self._fields(where, rule, output)
        metadata = output.get("sops")
        named = {str(e.get("recipient")) for e in (metadata or {}).get("age") or [] if isinstance(e, dict)} \
            if isinstance(metadata, dict) else set()
        if self.recipient not in named:
            findings.append(self.finding(f"{where}: the encrypted file does not name the configured age recipient"))
        encrypted_file = self.root / "encrypted" / f"rule-{rule.index + 1}.yaml"
        encrypted_file.parent.mkdir(exist_ok=True)
        encrypted_file.write_text(encrypted.stdout, encoding="utf-8")
        env = dict(self.env, SOPS_AGE_KEY_FILE=str(self.key_file))
        decrypted = self._run([str(self.sops), "--disable-version-check", "--decrypt", "--input-type", "yaml",
                               "--output-type", "yaml", str(encrypted_file)], env=env)
        if decrypted.returncode != 0:
            findings.append(self.finding(f"{where}: sops --decrypt with the generated key failed: "
                                         f"{scrub(decrypted.stderr)}"))
            return findings
        try:
            back = load_documents(decrypted.stdout, f"sops --decrypt output for {sample}")
        except InputError as exc:
            findings.append(self.finding(f"{where}: decrypted output does not parse ({exc.code})"))
            return findings
        if not back or back[0] != proof_secret():
            original = dict(_leaves(proof_secret()))
            restored = dict(_leaves(back[0])) if back else {}
            changed = sorted(".".join(k) for k in original.keys() | restored.keys()
                             if original.get(k) != restored.get(k))
            at = ", ".join(changed[:5]) or "(document)"
            findings.append(self.finding(f"{where}: decrypt(encrypt(x)) != x at {at}"))
        return findings

    def _fields(self, where: str, rule: _Rule, output: dict[str, Any]) -> list[Finding]:
        actual = {keys: isinstance(value, str) and value.startswith(ENC_PREFIX)
                  for keys, value in _leaves({k: v for k, v in output.items() if k != "sops"})}
        expected = {keys: _should_encrypt(keys, rule.raw) for keys, _ in _leaves(proof_secret())}
        findings: list[Finding] = []
        differs = sorted(".".join(k) for k in expected if actual.get(k) != expected[k])
        if differs:
            findings.append(self.finding(f"{where}: sops did not encrypt as the rule declares at "
                                         f"{', '.join(differs[:5])}",
                                         hint="check encrypted_regex/unencrypted_regex against sops semantics"))
        exposed = sorted(".".join(k) for k, enc in actual.items() if k[0] in _SECRET_KEYS and not enc)
        if exposed:
            findings.append(self.finding(f"{where}: Secret values stay in plaintext at {', '.join(exposed[:5])}",
                                         hint="encrypted_regex must cover data and stringData, e.g. "
                                              "^(data|stringData)$"))
        hidden = sorted(".".join(k) for k, enc in actual.items() if k[0] in _PLAIN_KEYS and enc)
        if hidden:
            findings.append(self.finding(f"{where}: encrypts {', '.join(hidden[:5])}, which kustomize and Flux must "
                                         "read in plaintext", hint="limit encrypted_regex to ^(data|stringData)$"))
        return findings

    def _negative(self, config: Path, rule: _Rule, path: str) -> list[Finding]:
        result = self._encrypt(config, path)
        if result.returncode == 0:
            return [self.finding(f"sops encrypted {path}, which no creation rule should match (near miss of "
                                 f"{rule.label()})", hint="tighten path_regex; sops and Python disagree on it")]
        if _REFUSED not in result.stderr:
            return [self.finding(f"sops failed on unmatched path {path} for another reason: {scrub(result.stderr)}")]
        return []


def prove_sops_config(sops_yaml_path: Path, workdir: Path, *, cluster: str = "", display: str = ".sops.yaml",
                      jobs: int = 2) -> list[Finding]:
    """Prove any ``.sops.yaml`` usable with a recipient we control (every rule's keys replaced in a temp copy)."""
    prover = _Prover(workdir, cluster=cluster, display=display)
    try:
        prover.generate_key()
        config, rules, findings = prover.write_config(sops_yaml_path, rewrite=True)
        if not rules:
            return findings
        return findings + prover.prove(config, rules, jobs)
    finally:
        prover.close()


def _config_rules(config: Any) -> list[Any] | None:
    node = config
    for key in ("opencenter", "gitops", "overlay_units", "sops"):
        node = node.get(key) if isinstance(node, dict) else None
    if not isinstance(node, dict) or node.get("enabled") is not True:
        return None
    rules = node.get("rules")
    return rules if isinstance(rules, list) else []


def sops_enabled_in_config(config_path: Path) -> bool:
    """``opencenter.gitops.overlay_units.sops.enabled`` of a cluster config (read as data, no renderer import)."""
    docs = load_file(config_path)
    return _config_rules(docs[0] if docs else None) is not None


def prove_rendered_sops(renderer: Renderer, config_path: Path, workdir: Path, *, cluster: str = "",
                        jobs: int = 2, compare_with: Path | None = None) -> list[Finding]:
    """Render the cluster with every ``age_recipients`` list replaced by a generated recipient, then prove the
    rendered ``.sops.yaml`` (rules carry that recipient, match the config's rules, encrypt and round-trip).

    ``compare_with``: the ``.sops.yaml`` of the overlay under test; a WARNING when its rules differ from the
    proven ones other than in recipients (the proof would then not cover it)."""
    cluster = cluster or cluster_name(config_path)
    text = read_text(config_path)
    config = load_roundtrip(text, str(config_path))
    rules = _config_rules(config)
    if rules is None:
        return [Finding(code=CODE, message="SOPS is off in the cluster config; nothing to prove", check="policy",
                        cluster=cluster, path=".sops.yaml", severity=Severity.NOTE)]
    prover = _Prover(workdir, cluster=cluster, display=".sops.yaml")
    try:
        recipient = prover.generate_key()
        for rule in rules:
            if isinstance(rule, dict):
                rule["age_recipients"] = [recipient]
        copy = prover.root / "config" / config_path.name
        copy.parent.mkdir()
        stream = io.StringIO()
        YAML(typ="rt").dump(config, stream)
        copy.write_text(stream.getvalue(), encoding="utf-8")
        out = prover.root / "render" / "applications" / "overlays" / cluster
        out.mkdir(parents=True)
        try:
            renderer.render(copy, out)
        except InputError as exc:
            return [prover.finding(f"rendering with a generated age recipient failed: {exc.code}: {exc.message}",
                                   hint="render the cluster by hand to see why")]
        rendered = out / ".sops.yaml"
        if not rendered.is_file():
            return [prover.finding("SOPS is enabled but the renderer wrote no .sops.yaml",
                                   hint="the sops descriptor must render .sops.yaml when overlay_units.sops.enabled")]
        config_file, parsed, findings = prover.write_config(rendered, rewrite=False)
        wanted = [str(r.get("path_regex")) for r in rules if isinstance(r, dict)]
        got = [r.regex for r in parsed]
        if parsed and got != wanted:
            findings.append(prover.finding(f"rendered creation rules {got} differ from the config's rules {wanted}",
                                           hint="one creation rule per overlay_units.sops.rules entry, in order"))
        if compare_with is not None and parsed and _without_keys(compare_with) != _without_keys(rendered):
            findings.append(prover.finding("the overlay's .sops.yaml differs from the one rendered for the proof "
                                           "(other than recipients); the proof does not cover it",
                                           severity=Severity.WARNING,
                                           hint="render the overlay again from its config"))
        if not parsed:
            return findings
        return findings + prover.prove(config_file, parsed, jobs)
    finally:
        prover.close()


def _without_keys(path: Path) -> Any:
    """A .sops.yaml's data with every key field removed (for comparing rule structure)."""
    try:
        docs = load_file(path)
    except InputError:
        return None
    data = docs[0] if docs else None
    if not isinstance(data, dict) or not isinstance(data.get("creation_rules"), list):
        return data
    rules = [{k: v for k, v in r.items() if k not in _KEY_FIELDS} if isinstance(r, dict) else r
             for r in data["creation_rules"]]
    return {**data, "creation_rules": rules}


def check(ctx: PolicyContext) -> list[Finding]:
    """Prove the overlay's SOPS configuration when SOPS is on (rendered proof when a renderer is given)."""
    if not ctx.sops_on:
        return []
    sops_yaml = ctx.overlay / ".sops.yaml"
    if not sops_yaml.is_file():
        return [ctx.finding(CODE, "SOPS is on but the overlay has no .sops.yaml", path=".sops.yaml",
                            hint="the renderer must write .sops.yaml when overlay_units.sops.enabled is true")]
    workdir = ctx.temp_dir("sops")
    options = ctx.options
    if options.renderer is not None and options.config_path is not None:
        findings = prove_rendered_sops(options.renderer, options.config_path, workdir, cluster=ctx.cluster,
                                       jobs=options.jobs, compare_with=sops_yaml)
    else:
        findings = prove_sops_config(sops_yaml, workdir, cluster=ctx.cluster, jobs=options.jobs)
    ctx.notes["sops_proof"] = "rendered" if options.renderer is not None and options.config_path else "config"
    return findings


POLICY = Policy("sops", (CODE,), "the .sops.yaml encrypts, round-trips and refuses as its rules promise", check)
