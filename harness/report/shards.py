"""Shard reports: labels (``I/N``), the whole-matrix check, and their union."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from harness.errors import InputError
from harness.report.model import Report


def merge_reports(reports: Iterable[Report]) -> Report:
    """Union of shard reports. Stale-rule findings are dropped here; the caller recomputes them on the union."""
    merged = Report(shard="merged")
    seen: set[str] = set()
    for report in reports:
        for result in report.results:
            if result.name in seen and result.check != "inventory":
                raise InputError("REPORT-INVALID", f"check {result.name!r} appears in two shard reports",
                                 hint="shards must split clusters disjointly (--shard I/N)")
            seen.add(result.name)
            if result.check == "inventory":
                continue
            merged.results.append(result)
        merged.matched_rules |= report.matched_rules
        merged.clusters_run |= report.clusters_run
        if report.inventory and not merged.inventory:
            merged.inventory = dict(report.inventory)
        elif report.inventory and report.inventory.get("version") != merged.inventory.get("version"):
            raise InputError("REPORT-INVALID", "shard reports were made with different inventory versions",
                             hint="rerun every shard on the same commit")
    return merged


UNLABELLED = ("", "merged")  # ``shard`` of an unsharded run, and of a report written by ``merge-reports``
_MATRIX_HINT = "merge the reports of one shard matrix: every --shard I/N of a single N, each once"


def parse_shard_label(label: str, *, source: str) -> tuple[int, int] | None:
    """A report's ``shard`` as (I, N); None when unlabelled (:data:`UNLABELLED`); else REPORT-INVALID."""
    if label in UNLABELLED:
        return None
    shard = split_shard(label)
    if shard is None:
        raise InputError("REPORT-INVALID", f"shard label {label!r} is not I/N", file=source,
                         hint="pass reports written by `check --shard I/N` or `pytest --parity-shard I/N`")
    return shard


def split_shard(spec: str) -> tuple[int, int] | None:
    """``"2/4"`` -> (2, 4): shard I of N, 1-based (1 <= I <= N); None for anything else."""
    index, sep, total = spec.partition("/")
    try:
        i, n = int(index), int(total)
    except ValueError:
        return None
    return (i, n) if sep and 1 <= i <= n else None


def check_shards(reports: Sequence[tuple[str, Report]], *, expect: int | None = None,
                 allow_partial: bool = False) -> None:
    """Refuse (REPORT-INVALID) a set of ``(source, report)`` that is not one whole shard matrix.

    Always: every label is I/N or absent, labelled and unlabelled reports are not mixed, all labels share
    one N (``expect`` when given) and none appears twice; more than ``expect`` unlabelled reports is
    refused. Unless ``allow_partial``: every shard 1..N is present, and ``expect`` unlabelled reports
    means exactly that many.
    """
    labelled: dict[tuple[int, int], str] = {}
    unlabelled: list[str] = []
    for source, report in reports:
        shard = parse_shard_label(report.shard, source=source)
        if shard is None:
            unlabelled.append(source)
            continue
        index, total = shard
        if shard in labelled:
            raise InputError("REPORT-INVALID", f"shard {index}/{total} is given twice (also {labelled[shard]})",
                             file=source, hint="pass each shard's report once")
        if expect is not None and total != expect:
            raise InputError("REPORT-INVALID", f"shard {index}/{total} is not a shard of --expect-shards {expect}",
                             file=source, hint=f"run every shard as --shard I/{expect}, or fix --expect-shards")
        first = next(iter(labelled), None)
        if first is not None and first[1] != total:
            raise InputError("REPORT-INVALID", f"shard {index}/{total} does not belong with shard "
                             f"{first[0]}/{first[1]} ({labelled[first]})", file=source, hint=_MATRIX_HINT)
        labelled[shard] = source
    if labelled and unlabelled:
        first = next(iter(labelled))
        raise InputError("REPORT-INVALID", f"report has no shard label but {labelled[first]} is shard "
                         f"{first[0]}/{first[1]}", file=unlabelled[0], hint=_MATRIX_HINT)
    if expect is not None and len(unlabelled) > expect:
        raise InputError("REPORT-INVALID", f"{len(unlabelled)} reports given for --expect-shards {expect}",
                         hint="pass one report per shard, or fix --expect-shards")
    if allow_partial:
        return
    if labelled:
        total = next(iter(labelled))[1]
        missing = [f"{i}/{total}" for i in range(1, total + 1) if (i, total) not in labelled]
        if missing:
            what = f"shard {missing[0]} is" if len(missing) == 1 else f"shards {', '.join(missing)} are"
            raise InputError("REPORT-INVALID", f"{what} missing ({len(labelled)} of {total} shard reports given)",
                             hint="pass every shard's report, or --allow-partial to merge an incomplete set")
    elif expect is not None and len(unlabelled) < expect:
        raise InputError("REPORT-INVALID", f"{len(unlabelled)} of --expect-shards {expect} reports given",
                         hint="pass every shard's report, or --allow-partial to merge an incomplete set")
