"""Generate conform's cffi view of the kernel UAPI from real kernel headers.

One ``gcc -E -dD`` run over the V4L2 and media headers gives both the declarations and
every macro definition, each tagged with the file it came from.  pycparser reads the
declarations; each struct, union, enum and typedef becomes cffi declaration text.  Every
object-like macro the top headers define is expanded and folded into an integer where it
is one (``macros``), with ``sizeof`` and casts answered by cffi itself.  Nothing is typed
by hand, and ``tests/test_uapi_layout.py`` has the C compiler check the outcome.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cffi
from pycparser import c_ast, c_generator, c_parser

from conform.errors import ConformError
from conform.uapi.headers import TOP_HEADERS
from conform.uapi.macros import Evaluator, Macro, NotConstant, expand, parse_define, tokenize

# videodev2.h takes struct timeval and struct timespec from <sys/time.h>; the host libc's
# headers are full of extensions pycparser can't read, so these stand in (x86_64 and
# aarch64 glibc layout).  The layout test compiles against the real <sys/time.h>.
_FAKE_SYS_TIME = """\
struct timeval { long tv_sec; long tv_usec; };
struct timespec { long tv_sec; long tv_nsec; };
"""
_ATTRIBUTE = re.compile(r"__attribute__\s*\(\((?:[^()]|\([^()]*\))*\)\)")
_PACKED = "__PACKED__"
_LINE_MARKER = re.compile(r'^# \d+ "([^"]*)"')


class UapiGenerationError(ConformError):
    """The headers could not be turned into declarations."""


@dataclass
class Preprocessed:
    code: str
    """Declarations with line markers, for pycparser (which reads the markers)."""
    macros: dict[str, Macro] = field(default_factory=dict)
    top_macros: list[str] = field(default_factory=list)
    """Object-like macros defined by the top headers themselves, in header order."""


def preprocess(include_dirs: list[Path]) -> Preprocessed:
    """Run the preprocessor once, keeping definitions in place (``-dD``)."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "sys").mkdir()
        (Path(tmp) / "sys" / "time.h").write_text(_FAKE_SYS_TIME)
        source = "".join(f"#include <{h}>\n" for h in TOP_HEADERS)
        # -nostdinc: only the UAPI tree (and the stand-in above) may answer an #include.
        cmd = ["gcc", "-E", "-dD", "-nostdinc", f"-I{tmp}", *(f"-I{d}" for d in include_dirs), "-"]
        done = subprocess.run(cmd, input=source, capture_output=True, text=True)
    if done.returncode:
        raise UapiGenerationError(f"preprocessing the UAPI headers failed:\n{done.stderr}")
    result = Preprocessed("")
    code: list[str] = []
    current = ""
    for line in done.stdout.splitlines():
        if m := _LINE_MARKER.match(line):
            current = m.group(1)
        if line.startswith("#undef"):
            result.macros.pop(line.split()[1], None)
        elif parsed := parse_define(line):
            name, macro = parsed
            result.macros[name] = macro
            if macro.params is None and current.endswith(TOP_HEADERS) and name not in result.top_macros:
                result.top_macros.append(name)
        else:
            code.append(line)
    result.code = "\n".join(code) + "\n"
    return result


# --- declarations -----------------------------------------------------------------------


def _for_pycparser(code: str) -> str:
    """Drop the GNU extensions pycparser can't read; ``packed`` stays as a marker."""
    # 128-bit integers: cffi has no such type and the V4L2 and media structs use none.
    code = re.sub(r"^.*__int128.*$", "", code, flags=re.M)
    code = code.replace("__extension__", "").replace("__signed__", "signed").replace("__inline__", "inline")

    def attribute(m: re.Match[str]) -> str:
        text = re.sub(r"\s", "", m.group(0))
        if text == "__attribute__((packed))":
            return f" {_PACKED} "
        # Silently dropping e.g. aligned(8) would make a layout cffi can't reproduce.
        raise UapiGenerationError(f"unsupported attribute {m.group(0)}")

    return _ATTRIBUTE.sub(attribute, code)


def _top_level_blocks(code: str) -> Iterator[tuple[int, int]]:
    """(open, close) offsets of every outermost ``{ ... }``."""
    depth = start = 0
    for m in re.finditer(r"[{}]", code):
        if m.group(0) == "{":
            depth += 1
            if depth == 1:
                start = m.start()
        else:
            depth -= 1
            if depth == 0:
                yield start, m.start()


def packed_records(code: str) -> set[str]:
    """Names (``struct v4l2_ext_control``) of the records declared packed.

    cffi packs per ``cdef`` call, all records in it alike, so a packed record is emitted
    in a packed call, its anonymous members packed with it.  Any ``packed`` that this
    can't express (a packed member of an unpacked record, a packed anonymous typedef)
    stops generation rather than becoming a wrong layout.
    """
    packed: set[str] = set()
    accounted = 0
    previous_end = 0
    for start, end in _top_level_blocks(code):
        head = re.search(r"\b(struct|union)\s+(\w+)\s*$", code[previous_end:start])
        tail = code[end + 1 : code.find(";", end)]
        inner = code[start:end].count(_PACKED)
        is_packed = head is not None and _PACKED in tail
        if is_packed and head is not None:
            packed.add(f"{head.group(1)} {head.group(2)}")
            accounted += 1 + inner
        elif inner or _PACKED in tail:
            what = f"{head.group(1)} {head.group(2)}" if head else code[previous_end:start].strip()[-60:]
            raise UapiGenerationError(f"{what}: cffi can only pack a whole named record")
        previous_end = end + 1
    if accounted != code.count(_PACKED):
        raise UapiGenerationError("a packed attribute outside any record")
    return packed


def _record_name(node: c_ast.Node) -> str | None:
    if isinstance(node, c_ast.Struct | c_ast.Union) and node.name and node.decls is not None:
        return f"{'struct' if isinstance(node, c_ast.Struct) else 'union'} {node.name}"
    return None


def _walk(node: c_ast.Node) -> Iterator[c_ast.Node]:
    yield node
    for _, child in node.children():
        yield from _walk(child)


def _constant_node(value: int) -> c_ast.Node:
    literal = c_ast.Constant("int", str(abs(value)))
    return c_ast.UnaryOp("-", literal) if value < 0 else literal


# Primitive types only: an enumerator or array size of these headers names no record.
_PRIMITIVES = cffi.FFI()


def _fold(expr: c_ast.Node, enumerators: dict[str, int], typedefs: set[str]) -> int:
    """Fold an enumerator value or array size; cffi reads only plain numbers there."""
    text = c_generator.CGenerator().visit(expr)
    evaluator = Evaluator(
        tokenize(text),
        enumerators,
        _PRIMITIVES.sizeof,
        lambda ctype, value: int(_PRIMITIVES.cast(ctype, value)),
        typedefs.__contains__,
    )
    try:
        return evaluator.value()
    except (NotConstant, cffi.CDefError, cffi.FFIError) as e:
        raise UapiGenerationError(f"{expr.coord}: cannot fold {text}: {e}") from e


@dataclass
class Declarations:
    chunks: list[tuple[str, bool]]
    """cffi declaration text in header order, each with whether to cdef it packed."""
    records: list[str]
    """Every named struct and union (``struct v4l2_format``), in header order."""
    enumerators: dict[str, int]
    typedefs: set[str]


def declarations(code: str) -> Declarations:
    marked = _for_pycparser(code)
    packed = packed_records(marked)
    ast = c_parser.CParser().parse(marked.replace(_PACKED, ""), filename="<uapi>")
    enumerators: dict[str, int] = {}
    typedefs: set[str] = set()
    records: list[str] = []
    chunks: list[tuple[str, bool]] = []
    generator = c_generator.CGenerator()
    for top in ast.ext:
        if isinstance(top, c_ast.FuncDef) or isinstance(getattr(top, "type", None), c_ast.FuncDecl):
            continue  # static inline helpers: nothing cffi's ABI mode could call
        names: list[str] = []
        for node in _walk(top):
            if isinstance(node, c_ast.Enum) and node.values is not None:
                value = -1
                for item in node.values.enumerators:
                    value = value + 1 if item.value is None else _fold(item.value, enumerators, typedefs)
                    enumerators[item.name] = value
                    item.value = _constant_node(value)
            elif isinstance(node, c_ast.ArrayDecl) and node.dim is not None:
                node.dim = _constant_node(_fold(node.dim, enumerators, typedefs))
            elif (name := _record_name(node)) is not None:
                names.append(name)
        if isinstance(top, c_ast.Typedef):
            typedefs.add(top.name)
        records += names
        is_packed = any(n in packed for n in names)
        text = generator.visit(top) + ";\n"
        if chunks and chunks[-1][1] == is_packed:
            chunks[-1] = (chunks[-1][0] + text, is_packed)
        else:
            chunks.append((text, is_packed))
    return Declarations(chunks, records, enumerators, typedefs)


# --- everything together ----------------------------------------------------------------


def load_declarations(chunks: list[tuple[str, bool]]) -> cffi.FFI:
    ffi = cffi.FFI()
    for text, packed in chunks:
        ffi.cdef(text, packed=packed)
    return ffi


def generate(include_dirs: list[Path]) -> dict[str, Any]:
    """Everything ``conform.uapi`` loads, as plain data.

    ``constants`` are the top headers' integer macros, ``ioctls`` those among them built by
    ``_IOC`` (name -> [number, argument type or None]).
    """
    pre = preprocess(include_dirs)
    decls = declarations(pre.code)
    ffi = load_declarations(decls.chunks)

    def cast(ctype: str, value: int) -> int:
        if ffi.typeof(ctype).kind not in ("primitive", "enum"):
            raise NotConstant(f"cast to {ctype}")
        return int(ffi.cast(ctype, value))

    def is_type(name: str) -> bool:
        return name in decls.typedefs

    known = dict(decls.enumerators)
    constants: dict[str, int] = {}
    ioctls: dict[str, list[Any]] = {}
    for name in pre.top_macros:
        if name.startswith("__"):
            continue  # include guards and compiler plumbing
        expansion = expand([name], pre.macros)
        evaluator = Evaluator(expansion.tokens, known, ffi.sizeof, cast, is_type)
        try:
            value = evaluator.value()
        except (NotConstant, cffi.CDefError, cffi.FFIError, TypeError):
            continue
        constants[name] = known[name] = value
        if "_IOC" in expansion.used:
            # _IOC_TYPECHECK(t) is sizeof(t): the one sizeof names the argument; _IO has none.
            types = evaluator.sizeof_types
            ioctls[name] = [value, types[0] if len(types) == 1 else None]
    return {
        "chunks": decls.chunks,
        "records": decls.records,
        "enumerators": decls.enumerators,
        "constants": constants,
        "ioctls": ioctls,
    }
