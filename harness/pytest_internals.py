"""Every place overlay-parity reaches inside pytest or pytest-xdist, in one module (the plugin stays on
public hooks and APIs; when pytest or xdist change, this is the file to read).

- worker / controller detection (``config.workerinput``, the ``dsession`` plugin) and the data a worker
  hands back (``config.workeroutput``, ``node.workeroutput``);
- ``--dist loadgroup`` node ids: a worker names per-cluster items ``<name>@<cluster>`` itself where
  pytest-xdist cannot (pytest >= 9.2 keeps no ``Node._nodeid``, which pytest-xdist 3.8 writes);
- running one extra item on the controller through ``_pytest.runner.runtestprotocol``;
- lifting assertion rewriting for our own packages (``rewrite_hook._must_rewrite``): pytest marks the
  packages of a plugin's distribution for rewriting, which re-parses every module on import when no
  bytecode cache can be written (their ``assert`` statements are invariants, not test assertions).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest

WORKER_OUTPUT = "overlay_parity"
# Packages of this distribution that pytest would assertion-rewrite on import.
OWN_PACKAGES = ("harness", "renderer", "hooks")


def is_worker(config: pytest.Config) -> bool:
    """Whether this process is a pytest-xdist worker."""
    return hasattr(config, "workerinput")


def is_xdist_controller(config: pytest.Config) -> bool:
    """Whether this process is the pytest-xdist controller of a distributed run."""
    return not is_worker(config) and config.pluginmanager.getplugin("dsession") is not None


def hand_back(config: pytest.Config, data: dict[str, Any]) -> None:
    """On a worker: hand JSON-able ``data`` to the controller."""
    config.workeroutput[WORKER_OUTPUT] = json.dumps(data)  # type: ignore[attr-defined]


def handed_back(node: Any) -> dict[str, Any] | None:
    """On the controller, when a worker is done: the data it handed back, if any."""
    output = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT)
    return json.loads(output) if output else None


def own_group_suffix(session: pytest.Session) -> bool:
    """Whether per-cluster node ids get their ``@<cluster>`` suffix here: on an xdist worker under ``--dist
    loadgroup`` (the controller groups node ids by that suffix) when pytest no longer keeps node ids in
    ``Node._nodeid``, where pytest-xdist writes it (pytest >= 9.2); else pytest-xdist adds it itself."""
    config = session.config
    return (is_worker(config) and bool(getattr(config.option, "loadgroup", False))
            and not hasattr(session, "_nodeid"))


def run_extra_item(session: pytest.Session, item: pytest.Item) -> None:
    """Run ``item`` on the controller after the workers, through the normal reporting protocol."""
    from _pytest.runner import runtestprotocol

    session.testscollected += 1  # the workers did not count it: keep the progress display right
    session.config.hook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    reports = runtestprotocol(item, nextitem=None, log=True)
    session.config.hook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    if any(r.failed for r in reports) and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def skip_assertion_rewrite(config: pytest.Config | None = None) -> None:
    """Import our packages without pytest's assertion rewriting (test modules and conftest files are still
    rewritten: they are matched by name, not by this mark). Without ``config`` the rewrite hook is found on
    ``sys.meta_path``: this module does that when it is imported, so the plugin's own imports are not
    rewritten either."""
    hooks = [getattr(config.pluginmanager, "rewrite_hook", None)] if config is not None else [
        hook for hook in sys.meta_path if type(hook).__name__ == "AssertionRewritingHook"]
    for hook in hooks:
        marked = getattr(hook, "_must_rewrite", None)
        cache = getattr(hook, "_marked_for_rewrite_cache", None)
        if isinstance(marked, set) and marked & set(OWN_PACKAGES):
            marked.difference_update(OWN_PACKAGES)
            if isinstance(cache, dict):
                for name in [n for n in cache if n.partition(".")[0] in OWN_PACKAGES]:
                    del cache[name]


skip_assertion_rewrite()
