"""Which rendered outputs are already known to be valid YAML, up to the cluster's name.

The renderer parses every YAML output it produces (a template must never write invalid YAML). Across a
fleet, one template renders the same text for every cluster except where the text names the cluster, so
outputs are remembered by a *validation key*: the text with each occurrence of the cluster name replaced
by one fixed token. Two texts with the same key are valid or invalid together, because the replacement
never changes how YAML reads the text:

- the name is a DNS-1123 label that starts with a letter and contains a ``-`` (``k8s-dev-0001``), and the
  token is one too: both are plain, string-typed scalar fragments (never a number, bool, null, date or
  indicator), so tokens, indentation and the type of every key stay the same;
- the token does not occur in the text, so the replacement can be undone: distinct keys stay distinct
  (duplicate-key detection is unchanged);
- texts with a tag (``!``) are keyed by themselves (a tag may constrain a scalar's content), and so are
  texts with a line near YAML's 1024-character limit for implicit keys.

Only validity is remembered (never documents); an invalid text is parsed itself so its error is exact.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

PLACEHOLDER = "cluster-name-validation-placeholder"
_SAFE_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)+")
_LONG_LINE = 900


class ValidOutputs:
    """A bounded, thread-safe set of validation keys of texts that parsed (least recently used out)."""

    def __init__(self, *, budget: int = 16 << 20) -> None:
        self.budget = budget
        self._keys: OrderedDict[str, None] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    @staticmethod
    def key(text: str, cluster: str) -> str:
        """The validation key of ``text`` rendered for ``cluster`` (see the module docstring)."""
        if not cluster or cluster not in text or not _SAFE_NAME.fullmatch(cluster) or "!" in text \
                or PLACEHOLDER in text:
            return text
        key = text.replace(cluster, PLACEHOLDER)
        if max(map(len, key.splitlines())) > _LONG_LINE or max(map(len, text.splitlines())) > _LONG_LINE:
            return text
        return key

    def __contains__(self, key: object) -> bool:
        with self._lock:
            if key in self._keys:
                self._keys.move_to_end(str(key))
                return True
        return False

    def add(self, key: str) -> None:
        """Remember that the texts with this key are valid."""
        with self._lock:
            if key in self._keys:
                return
            self._keys[key] = None
            self._size += len(key)
            while self._size > self.budget and self._keys:
                old, _ = self._keys.popitem(last=False)
                self._size -= len(old)
