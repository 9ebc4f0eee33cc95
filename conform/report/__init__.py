"""Reports of a run: the same summary rendered as plain text (for a linux-media reply),
Markdown, JSON, JUnit XML and KernelCI results, written under ``reports/<run-id>/``."""

from __future__ import annotations

from pathlib import Path

from conform.report import junit, kcidb, markdown, text
from conform.report.summary import Summary


def write_all(summary: Summary, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    outputs = {
        "report.txt": text.render(summary),
        "report.md": markdown.render(summary),
        "report.json": summary.to_json(),
        "junit.xml": junit.render(summary),
        "kcidb.json": kcidb.render(summary),
    }
    paths = []
    for name, content in outputs.items():
        path = folder / name
        path.write_text(content)
        paths.append(path)
    return paths


__all__ = ["Summary", "write_all"]
