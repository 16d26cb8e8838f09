"""Mutation score of the critical modules: `make mutation` (minutes; not part of CI).

For each module listed in scripts/mutation.toml, mutmut mutates that module alone and runs
every mutant against that module's own tests. mutmut reads its settings from the working
directory, so each module runs in a scratch copy of the tree, .work/mutation/<name>/, one
module after another (the machine is shared: `--jobs` bounds the parallel test runs).
Surviving mutants that are truly equivalent (no observable change) are listed with the
reason in scripts/mutation_equivalent.toml and are not counted; a listed mutant that no
longer appears is reported, so the list cannot go stale silently.

Prints the survivors, one line per module, and last `mutation: K/N killed (P%)`; exits 1
when a module is below its target. Timeouts count as killed (the tests noticed) and are
shown apart. Test files named in the list that do not exist are skipped with a note, so
the same list can measure an older tree.

    python scripts/mutation.py [NAME ...] [--jobs N] [--resume]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULES = ROOT / "scripts" / "mutation.toml"
EQUIVALENT = ROOT / "scripts" / "mutation_equivalent.toml"
WORK = ROOT / ".work" / "mutation"
TREE = ("fhir_server", "smart_auth", "terminology", "tests", "profiles")
PACKAGES = ("fhir_server", "smart_auth", "terminology")
KILLED = {"killed", "timeout", "caught by type check", "segfault"}


@dataclass(frozen=True)
class Module:
    name: str
    path: str
    tests: tuple[str, ...]
    target: float
    pytest_args: tuple[str, ...] = ()
    skip_lines: tuple[str, ...] = ()  # regexes of source lines left unmutated (reason in the toml)


@dataclass
class Score:
    module: Module
    statuses: dict[str, str] = field(default_factory=dict)  # mutant -> mutmut status
    equivalent: dict[str, str] = field(default_factory=dict)  # mutant -> reason
    survivors: dict[str, str] = field(default_factory=dict)  # mutant -> diff

    @property
    def counted(self) -> int:
        return len(self.statuses) - len(self.equivalent)

    @property
    def killed(self) -> int:
        return sum(1 for s in self.statuses.values() if s in KILLED)

    @property
    def timeouts(self) -> int:
        return sum(1 for s in self.statuses.values() if s == "timeout")

    @property
    def percent(self) -> float:
        return 100.0 * self.killed / self.counted if self.counted else 100.0


def load_modules() -> list[Module]:
    data = tomllib.loads(MODULES.read_text(encoding="utf-8"))
    target = float(data["target"])
    return [
        Module(
            name=m["name"],
            path=m["path"],
            tests=tuple(m["tests"]),
            target=float(m.get("target", target)),
            pytest_args=tuple(m.get("pytest_args", ())),
            skip_lines=tuple(m.get("skip_lines", ())),
        )
        for m in data["module"]
    ]


def load_equivalent() -> list[dict[str, str]]:
    if not EQUIVALENT.exists():
        return []
    return list(tomllib.loads(EQUIVALENT.read_text(encoding="utf-8")).get("equivalent", []))


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(json.dumps(i) for i in items) + "]"


def prepare(module: Module, work: Path) -> list[str]:
    """A fresh scratch tree whose pyproject.toml tells mutmut what to mutate and test."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in TREE:
        shutil.copytree(ROOT / name, work / name, ignore=ignore)
    shutil.copy(ROOT / "setup.cfg", work / "setup.cfg")
    tests = [t for t in module.tests if (ROOT / t.split("::")[0]).exists()]
    for missing in sorted(set(module.tests) - set(tests)):
        print(f"  note: {module.name}: {missing} does not exist in this tree; skipped")
    settings = (
        "\n[tool.mutmut]\n"
        f"source_paths = {_toml_list(list(PACKAGES))}\n"
        f"only_mutate = {_toml_list([module.path])}\n"
        f"pytest_add_cli_args_test_selection = {_toml_list(tests)}\n"
        f"pytest_add_cli_args = {_toml_list(['-p', 'no:cacheprovider', *module.pytest_args])}\n"
        f"do_not_mutate_patterns = {_toml_list(list(module.skip_lines))}\n"
        'also_copy = ["profiles"]\n'
    )
    (work / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text() + settings)
    return tests


def mutmut(work: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "mutmut", *args], cwd=work, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(
            f"mutmut {' '.join(args)} failed in {work}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
    return done.stdout


# `mutmut show` for many mutants in one process (one start-up, not one per survivor)
_SHOW_ALL = """
import contextlib, io, json, sys
from mutmut.__main__ import cli
shown = {}
for name in sys.argv[1:]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        cli.main(["show", name], standalone_mode=False)
    shown[name] = out.getvalue()
print(json.dumps(shown))
"""


def show_all(work: Path, names: list[str]) -> dict[str, str]:
    if not names:
        return {}
    done = subprocess.run(
        [sys.executable, "-c", _SHOW_ALL, *names], cwd=work, capture_output=True, text=True, check=True
    )
    shown: dict[str, str] = json.loads(done.stdout.strip().splitlines()[-1])
    return shown


def changed_lines(diff: str) -> tuple[str, str]:
    """The original and mutated lines of a mutmut diff, stripped (the key of an equivalent)."""
    lines = [ln for ln in diff.splitlines() if not ln.startswith(("---", "+++"))]
    removed = "\n".join(ln[1:].strip() for ln in lines if ln.startswith("-"))
    added = "\n".join(ln[1:].strip() for ln in lines if ln.startswith("+"))
    return removed, added


def run_module(
    module: Module, jobs: int, equivalents: list[dict[str, str]], used: set[int], resume: bool
) -> Score:
    work = WORK / re.sub(r"[^A-Za-z0-9_.-]", "_", module.name)
    if not (resume and (work / "mutants").is_dir()):
        prepare(module, work)
    log = mutmut(work, "run", "--max-children", str(jobs))
    (work / "run.log").write_text(log)
    score = Score(module)
    for line in mutmut(work, "results", "--all", "true").splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep:
            score.statuses[name] = status
    survivors = [name for name, status in score.statuses.items() if status not in KILLED]
    for name, shown in show_all(work, survivors).items():
        status, diff = score.statuses[name], shown.split("\n", 1)[1]
        removed, added = changed_lines(diff)
        for i, eq in enumerate(equivalents):
            if (
                eq["module"] == module.path
                and eq["original"].strip() == removed
                and eq["mutant"].strip() == added
            ):
                score.equivalent[name] = eq["reason"]
                used.add(i)
                break
        else:
            score.survivors[name] = f"{status}\n{diff}"
    return score


def report(scores: list[Score], equivalents: list[dict[str, str]], used: set[int], ran: set[str]) -> bool:
    for score in scores:
        for name, text in score.survivors.items():
            print(f"\n# {name}: {text}")
    stale = [eq for i, eq in enumerate(equivalents) if i not in used and eq["module"] in ran]
    for eq in stale:
        print(
            f"\nnote: listed as equivalent but not found among the survivors: {eq['module']}: {eq['mutant']}"
        )
    print()
    ok = True
    for s in scores:
        below = s.percent < s.module.target
        ok = ok and not below
        print(
            f"mutation {s.module.name} ({s.module.path}): {s.killed}/{s.counted} killed ({s.percent:.1f}%)"
            f"{f', {s.timeouts} by timeout' if s.timeouts else ''}"
            f"{f', {len(s.equivalent)} equivalent not counted' if s.equivalent else ''}"
            f"{f' BELOW the {s.module.target:.0f}% target' if below else ''}"
        )
    killed = sum(s.killed for s in scores)
    counted = sum(s.counted for s in scores)
    print(f"mutation: {killed}/{counted} killed ({100.0 * killed / counted if counted else 100.0:.1f}%)")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("names", nargs="*", help="modules to run (default: all in scripts/mutation.toml)")
    parser.add_argument("--jobs", type=int, default=2, help="mutants tested at once (default 2)")
    parser.add_argument(
        "--resume", action="store_true", help="continue an interrupted run on the same tree (keeps results)"
    )
    args = parser.parse_args()
    modules = load_modules()
    unknown = set(args.names) - {m.name for m in modules}
    if unknown:
        raise SystemExit(f"unknown module(s): {', '.join(sorted(unknown))}")
    chosen = [m for m in modules if not args.names or m.name in args.names]
    equivalents = load_equivalent()
    used: set[int] = set()
    scores = []
    for module in chosen:
        print(f"mutating {module.path} against {', '.join(module.tests)}", flush=True)
        scores.append(run_module(module, args.jobs, equivalents, used, args.resume))
    if not report(scores, equivalents, used, {m.path for m in chosen}):
        sys.exit(1)


if __name__ == "__main__":
    main()
