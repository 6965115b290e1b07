"""The JSON report: written by ``--json`` / ``--parity-report``, read back by ``merge-reports``."""

from __future__ import annotations

import json
from pathlib import Path

from harness.errors import InputError
from harness.report.model import Report


def read_report(path: Path) -> Report:
    """Load a JSON report file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("FILE-MISSING", "report file does not exist", file=str(path),
                         hint="check the path of the shard report") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError("REPORT-INVALID", f"not JSON ({type(exc).__name__})", file=str(path),
                         hint="pass files written by --json or --parity-report") from None
    if not isinstance(data, dict):
        raise InputError("REPORT-INVALID", "top level is not an object", file=str(path),
                         hint="pass files written by --json or --parity-report")
    return Report.from_dict(data, source=str(path))


def write_json(report: Report, path: Path) -> None:
    """Write the JSON report (parents created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.to_dict(), indent=2, default=str) + "\n", encoding="utf-8")
