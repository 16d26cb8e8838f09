"""`fhir-server import FILES_OR_DIR...`: ndjson files into the store, as `$import` does
(through the Repository as the system, validation on, workflow rules off), with a
progress bar. Errors are printed, one line per refused resource. `--workers N` validates
lines in N worker processes while this one writes: faster on a machine with idle cores,
at about 150 MB per worker (bench/bulk_bench.py --workers); the default is this process."""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Iterator
from pathlib import Path

from fhir_server.bulk.import_workers import import_repository, process_preparer
from fhir_server.bulk.imports import Counts, Importer, Line, Problem, file_lines
from fhir_server.config import Settings


def ndjson_files(paths: list[Path]) -> list[Path]:
    """The .ndjson files named, or found in the folders named (sorted)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.ndjson") if p.is_file())
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(path)
    return found


def run(settings: Settings, paths: list[Path], workers: int = 0) -> int:
    from fhir_server.storage import open_store

    try:
        files = ndjson_files(paths)
    except FileNotFoundError as exc:
        print(f"fhir-server: no such file or folder: {exc}", file=sys.stderr)
        return 2
    store = open_store(settings.data_dir, settings.store_url)
    with contextlib.ExitStack() as stack:
        stack.callback(store.close)
        total = sum(_count_lines(f) for f in files)
        preparer = stack.enter_context(process_preparer(settings, workers)) if workers > 1 else None
        importer = Importer(store, import_repository(settings, store), preparer)
        bar = _Bar(total)
        counts = Counts()
        for path in files:
            done = importer.run(bar.track(file_lines(path)), None, functools.partial(_report, path))
            counts.written += done.written
            counts.errors += done.errors
            for type_, n in done.by_type.items():
                counts.by_type[type_] = counts.by_type.get(type_, 0) + n
        bar.finish()
    kinds = ", ".join(f"{n} {t}" for t, n in sorted(counts.by_type.items())) or "nothing"
    print(f"imported {kinds} from {len(files)} file(s); {counts.errors} refused")
    return 1 if counts.errors else 0


def _count_lines(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(1 for _ in fh)


def _report(path: Path, problem: Problem) -> None:
    text = "; ".join(i.diagnostics for i in problem.issues)
    sys.stderr.write(f"\n{path.name}:{problem.number}: {text}\n")


class _Bar:
    def __init__(self, total: int) -> None:
        self.total, self.done = total, 0

    def track(self, lines: Iterator[Line]) -> Iterator[Line]:
        for line in lines:
            yield line
            self.done += 1
            if self.done % 100 == 0 or self.done == self.total:
                self.draw()

    def draw(self) -> None:
        width = 40
        filled = width * self.done // max(self.total, 1)
        sys.stderr.write(f"\rimport [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}")
        sys.stderr.flush()

    def finish(self) -> None:
        self.draw()
        sys.stderr.write("\n")
