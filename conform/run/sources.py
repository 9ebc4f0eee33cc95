"""Vector items from suites, and each vector's request stream from its codec's front-end
(conform/codecs/frontend.py); a codec without one gives a not-supported result."""

from __future__ import annotations

from conform.codecs.frontend import RequestStream, build_request_stream
from conform.errors import NotSupportedError
from conform.run.items import Item, Kind
from conform.run.suite import Suite, load_suites
from conform.run.vector import search_path


def find_suite(name: str) -> Suite:
    suites = load_suites()
    for suite in suites:
        if suite.name == name:
            return suite
    raise NotSupportedError(f"no suite named {name!r}; known: {', '.join(s.name for s in suites)}")


def suite_items(name: str) -> list[Item]:
    suite = find_suite(name).resolve(search_path())
    items = []
    for vector in suite.test_vectors:
        size = vector.path.stat().st_size if vector.path else 0
        items.append(
            Item(
                Kind.VECTOR,
                vector.name,
                suite=suite.name,
                weight=0.5 + size / 200_000,
                extra={"codec": suite.codec.value},
            )
        )
    return items


def request_stream(item: Item) -> RequestStream:
    suite = find_suite(item.suite).resolve(search_path())
    return build_request_stream(suite.codec.value, suite.vector(item.target).read())
