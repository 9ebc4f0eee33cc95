"""``conform report``: parity, verdict and reports of a run directory (``conform run`` calls it too)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from conform.parity import compare_all, judge, load_waivers
from conform.report import Summary, write_all
from conform.report.pictures import write_pictures
from conform.run.record import RunDir
from conform.run.references import REFERENCES, read_all

WAIVERS = REFERENCES.parent / "waivers.json"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "report",
        help="compare a run's records and write its reports again",
        description="Parity of a run directory's candidate records against its c-visl records "
        "or the committed references, the verdict, and the text, Markdown, JSON, JUnit and "
        "KernelCI reports.",
    )
    p.add_argument("run_dir", type=Path, help="reports/<run-id>")
    p.add_argument("--driver", default="rust-visl", help="the candidate driver (default: %(default)s)")
    p.add_argument(
        "--against",
        default="auto",
        choices=("auto", "references", "c-visl", "none"),
        help="c-visl records of the run if it has them (auto), or the committed references",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return report_run(RunDir(args.run_dir), args.driver, args.against, "conform " + " ".join(sys.argv[1:]))


def _commit() -> str:
    done = subprocess.run(
        ["git", "-C", str(REFERENCES.parent), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


def report_run(run_dir: RunDir, driver: str, against: str, command: str) -> int:
    candidates = run_dir.records(driver)
    if against == "auto":
        against = "c-visl" if run_dir.records("c-visl") and driver != "c-visl" else "references"
    if against == "c-visl":
        references, reference_name = run_dir.records("c-visl"), "upstream visl (c-visl, live)"
    elif against == "references":
        references = read_all(REFERENCES)
        names = {r.item.name for r in candidates}
        references = [r for r in references if r.item.name in names]
        kernel = references[0].environment.get("kernel", "?") if references else "none recorded"
        reference_name = f"upstream visl references ({kernel})"
    else:
        references, reference_name = [], "nothing (--against none: not judged)"
    results = compare_all(references, candidates, load_waivers(WAIVERS)) if against != "none" else []
    verdict = judge(results, candidates)
    environment = {"kernel": references[0].environment.get("kernel")} if references else {}
    summary = Summary(
        run_dir.path.name,
        driver,
        reference_name,
        command,
        _commit(),
        tuple(results),
        tuple(candidates),
        verdict,
        environment,
    )
    paths = write_all(summary, run_dir.path)
    if against == "c-visl":
        pictures = write_pictures(run_dir.path, "c-visl", driver, results)
        if pictures:
            print(f"conform: {len(pictures)} pictures of differing frames in {run_dir.path / 'pictures'}")
    sys.stdout.write(paths[0].read_text())
    return 0 if verdict.ready else 1
