"""conform's pytest plugin: the markers conform's own tests use, and suite runs as items.

With ``--conform-driver`` the collected tests are replaced by conform's items (probes,
vectors), one pytest item each, which xdist spreads over its workers heaviest first.
Every item runs in a process of its own (conform/run/runner.py) and its record is on
disk before the item reports, so a crash, a hang or a killed run loses nothing done.

    pytest -p conform.run.plugin -n 2 --conform-driver rust-visl --conform-run-dir reports/x
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from conform.parity.compare import State, compare, load_waivers
from conform.run.items import Item, heaviest_first, probe_items
from conform.run.record import Record, RunDir, Status
from conform.run.runner import DEFAULT_TIMEOUT_S, run_item


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conform", "conform suite runs")
    group.addoption("--conform-driver", help="run conform's items on this driver instead of the tests")
    group.addoption("--conform-run-dir", help="the run directory records go to (reports/<run-id>)")
    group.addoption("--conform-probes", default="all", help="probes to run: all, none, or a comma list")
    group.addoption("--conform-suites", default="", help="vector suites to run (comma list of suite names)")
    group.addoption("--conform-filter", default="", help="only items whose name contains this text")
    group.addoption("--conform-resume", action="store_true", help="keep items that already have a record")
    group.addoption("--conform-timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds per item")
    group.addoption("--conform-references", help="a directory of reference records to compare against")
    group.addoption("--conform-waivers", help="the reviewed waiver file")
    group.addoption(
        "--conform-params-set", help="only items of this module-parameter set (kernel-tier batches)"
    )
    group.addoption("--conform-emit", action="store_true", help="print each record to stdout (kernel tier)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "kernel: needs the kernel tier (upstream visl in a QEMU guest); fails, never skips, "
        "when it cannot be had",
    )


def selected_items(config: pytest.Config) -> list[Item]:
    """The items the options ask for, in the order workers should take them."""
    probes = config.getoption("conform_probes")
    items: list[Item] = []
    if probes != "none":
        items += probe_items(None if probes == "all" else [p for p in probes.split(",") if p])
    suites = [s for s in config.getoption("conform_suites").split(",") if s]
    if suites:
        from conform.run.decode import vector_items

        items += vector_items(suites)
    text = config.getoption("conform_filter")
    params = config.getoption("conform_params_set")
    return heaviest_first(i for i in items if text in i.name and (params is None or i.params == params))


class ConformItem(pytest.Item):
    def __init__(self, *, item: Item, driver: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.conform_item = item
        self.driver = driver
        self.record: Record | None = None

    def runtest(self) -> None:
        config = self.config
        run_dir = RunDir(Path(config.getoption("conform_run_dir")))
        record = run_dir.read(self.driver, self.conform_item) if config.getoption("conform_resume") else None
        if record is None:
            record = run_item(run_dir, self.driver, self.conform_item, config.getoption("conform_timeout"))
        self.record = record
        if config.getoption("conform_emit"):
            from conform.run.guest import emit

            emit(record)
        self.user_properties.append(("status", record.status.value))
        if record.status is not Status.OK:
            raise ItemFailure(f"{record.status.value}: {record.error or ''}")
        references = config.getoption("conform_references")
        if references:
            reference = RunDir(Path(references)).read("c-visl", self.conform_item) or read_reference(
                Path(references), self.conform_item
            )
            waivers = load_waivers(Path(config.getoption("conform_waivers") or "/nonexistent"))
            result = compare(self.conform_item.name, reference, record, waivers)
            self.user_properties.append(("parity", result.state.value))
            if result.state not in (State.IDENTICAL, State.WAIVED):
                raise ItemFailure(f"{result.state.value}: {result.detail}")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ItemFailure):
            return f"{self.conform_item.name} on {self.driver}: {excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return Path("conform"), 0, f"{self.driver} {self.conform_item.name}"


class ItemFailure(Exception):
    """An item did not pass: not ok, or not the same as the reference."""


def read_reference(folder: Path, item: Item) -> Record | None:
    """A committed reference (vectors/references/<item>.json) as a record."""
    from conform.run.references import read

    return read(folder, item)


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    driver = config.getoption("conform_driver")
    if not driver:
        return
    items[:] = [
        ConformItem.from_parent(session, name=f"{driver}::{item.name}", item=item, driver=driver)
        for item in selected_items(config)
    ]


class Progress:
    """One line per finished item, with counts and an ETA, on the controlling process."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.total = 0
        self.done = 0
        self.counts: dict[str, int] = {}
        self.started = time.monotonic()

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.total = max(self.total, len(session.items))

    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        self.total = max(self.total, len(ids))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call" and not (report.when == "setup" and report.failed):
            return
        self.done += 1
        props = dict(report.user_properties)
        outcome = str(props.get("parity") or props.get("status") or report.outcome)
        if report.failed and outcome in ("ok", "identical"):
            outcome = "failed"
        self.counts[outcome] = self.counts.get(outcome, 0) + 1
        elapsed = time.monotonic() - self.started
        eta = elapsed / self.done * (self.total - self.done) if self.done else 0.0
        name = report.nodeid.split("::", 1)[-1]
        line = f"[{self.done}/{self.total}] {name} ... {outcome}  ({elapsed:.0f} s, ETA {eta:.0f} s)"
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(line)


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    if config.getoption("conform_driver") and not hasattr(config, "workerinput"):
        config.pluginmanager.register(Progress(config), "conform-progress")
