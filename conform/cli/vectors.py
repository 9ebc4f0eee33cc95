"""``conform vectors``: list the suites' vectors, and dump the request stream of one."""

from __future__ import annotations

import argparse
import sys

from conform.errors import NotSupportedError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "vectors",
        help="list test vectors, or print the request stream conform derives from one",
        description="Vectors come from the suites in vectors/suites (fluster JSON); their files from "
        "the vector store (--vectors-dir, CONFORM_VECTORS, the user cache, or ../shared/vectors).",
    )
    p.add_argument("--vectors-dir", default=None, help="the vector store directory")
    vsub = p.add_subparsers(dest="vectors_command", required=True, metavar="ACTION")
    ls = vsub.add_parser("list", help="every vector of every suite, and whether its file is present")
    ls.set_defaults(func=run_list)
    dump = vsub.add_parser(
        "dump",
        help="print a vector's request stream: controls field by field, payload sizes, timestamps, flags",
    )
    dump.add_argument("name", help="vector name (SUITE/NAME when several suites have it)")
    dump.add_argument(
        "--slice-based",
        action="store_true",
        help="H.264/HEVC: one request per slice (DECODE_MODE_SLICE_BASED) instead of one per picture",
    )
    dump.add_argument(
        "--no-start-codes",
        action="store_true",
        help="H.264/HEVC: slice NAL units without the 00 00 01 prefix (START_CODE_NONE)",
    )
    dump.set_defaults(func=run_dump)


def run_list(args: argparse.Namespace) -> int:
    from conform.run.suite import load_suites
    from conform.run.vector import VectorError, search_path

    stores = search_path(args.vectors_dir)
    print(f"vector store: {stores[0]}")
    missing = 0
    for suite in load_suites():
        print(f"[{suite.name}] ({suite.codec.value}) {len(suite.test_vectors)} vectors")
        width = max((len(v.name) for v in suite.test_vectors), default=0)
        for v in suite.test_vectors:
            try:
                path = v.resolve(stores).path
                assert path is not None  # resolve sets it
                state = f"{path.stat().st_size:>9} bytes  {path}"
            except VectorError:
                missing += 1
                state = f"  missing  {v.input_file}"
            print(f"  {v.name:<{width}}  {v.profile or '':<24} {state}")
    return 1 if missing else 0


def run_dump(args: argparse.Namespace) -> int:
    from conform.codecs.frontend import build_request_stream, dump
    from conform.codecs.stream import DecodeMode, SliceMode, StartCode
    from conform.run.suite import find_vector, load_suites
    from conform.run.vector import search_path

    suite, vector = find_vector(args.name, load_suites())
    vector = vector.resolve(search_path(args.vectors_dir))
    print(f"vector: {suite.name}/{vector.name} ({suite.codec.value}) {vector.path}")
    mode = SliceMode(
        DecodeMode.SLICE_BASED if args.slice_based else DecodeMode.FRAME_BASED,
        StartCode.NONE if args.no_start_codes else StartCode.ANNEX_B,
    )
    try:
        stream = build_request_stream(suite.codec.value, vector.read(), mode)
    except NotSupportedError as exc:
        print(f"result: {exc}")
        return 0
    out = sys.stdout
    for line in dump(stream):
        out.write(line + "\n")
    return 0
