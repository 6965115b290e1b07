"""Generate the README error-code table from harness/codes.py; `--write` updates README.md in place."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from harness.codes import CODES, NOTE_CODES

README = Path(__file__).resolve().parents[1] / "README.md"
BAD_INPUT = ("USAGE", "FILE-", "PATH-", "YAML-", "CONFIG-", "DESCRIPTOR-", "TEMPLATE-", "RENDER-",
             "RENDERER-", "INVENTORY-", "REPORT-", "TOOL-", "SECRET-ALLOWLIST-")
SECTION = re.compile(r"(<!-- codes-table:[^\n]*-->\n)(.*?)(<!-- /codes-table -->)", re.S)


def table() -> str:
    """The markdown table, one row per registered code."""
    rows = ["| code | exit | meaning |", "| --- | --- | --- |"]
    for code, meaning in CODES.items():
        exit_code = "3" if code == "INTERNAL" else "2" if code.startswith(BAD_INPUT) else \
            "0 (note)" if code in NOTE_CODES else "1"
        rows.append(f"| `{code}` | {exit_code} | {meaning} |")
    return "\n".join(rows) + "\n"


def readme_table(text: str) -> str:
    """The table currently in the README section."""
    match = SECTION.search(text)
    return match.group(2) if match else ""


if __name__ == "__main__":
    if "--write" in sys.argv:
        text = README.read_text(encoding="utf-8")
        README.write_text(SECTION.sub(lambda m: m.group(1) + table() + m.group(3), text), encoding="utf-8")
    else:
        sys.stdout.write(table())
