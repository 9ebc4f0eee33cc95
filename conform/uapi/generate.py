"""Generate conform's cffi view of the kernel UAPI from real kernel headers.

The C preprocessor expands the headers; pycparser reads the result; every struct, union,
enum and typedef they define becomes cffi declaration text, and every integer macro of
the V4L2 and media headers becomes a constant.  Nothing is typed by hand, and
``tests/test_uapi_layout.py`` has the C compiler check the outcome.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cffi
from pycparser import c_ast, c_generator, c_parser

from conform.errors import ConformError

TOP_HEADERS = ("linux/videodev2.h", "linux/v4l2-controls.h", "linux/v4l2-common.h", "linux/media.h")
# The two glibc types videodev2.h takes from <sys/time.h> (x86_64 layout).  The layout
# test compiles against the real <sys/time.h>, so a wrong guess here fails there.
_FAKE_SYS_TIME = (
    "struct timeval { long tv_sec; long tv_usec; };\nstruct timespec { long tv_sec; long tv_nsec; };\n"
)
_ATTRIBUTE = re.compile(r"__attribute__\s*\(\((?:[^()]|\([^()]*\))*\)\)")
_IOCTL_PREFIXES = ("VIDIOC_", "MEDIA_IOC_", "MEDIA_REQUEST_IOC_")


class UapiGenerationError(ConformError):
    """The headers could not be turned into declarations."""


@dataclass(frozen=True, slots=True)
class Declarations:
    """cdef chunks in header order; each is (text, packed)."""

    chunks: list[tuple[str, bool]]
    records: list[str]
    """Every named struct/union (``struct v4l2_format``)."""
    enums: dict[str, int]
    typedefs: set[str]


def _cpp(include_dirs: list[Path], mode: str) -> str:
    """Run the C preprocessor over the three headers (``-P``: text, ``-dM``: macros only)."""
    with tempfile.TemporaryDirectory() as tmp:
        fake = Path(tmp, "fake")
        (fake / "sys").mkdir(parents=True)
        (fake / "sys" / "time.h").write_text(_FAKE_SYS_TIME)
        source = "".join(f"#include <{h}>\n" for h in TOP_HEADERS)
        cmd = ["gcc", "-E", mode, "-nostdinc", f"-I{fake}", *(f"-I{d}" for d in include_dirs), "-"]
        done = subprocess.run(cmd, input=source, capture_output=True, text=True)
    if done.returncode:
        raise UapiGenerationError(f"preprocessing the UAPI headers failed:\n{done.stderr}")
    return done.stdout


def preprocess(include_dirs: list[Path]) -> str:
    return _cpp(include_dirs, "-P")


def _mark_packed(text: str) -> str:
    """Drop attributes pycparser can't read, keeping ``packed`` as a comment-free marker."""
    text = re.sub(r"^.*__int128.*$", "", text, flags=re.M)
    text = text.replace("__extension__", "").replace("__signed__", "signed").replace("__inline__", "inline")
    return _ATTRIBUTE.sub(lambda m: " __PACKED__ " if "packed" in m.group(0) else " ", text)


def _record_name(node: c_ast.Node) -> str | None:
    if isinstance(node, c_ast.Struct | c_ast.Union) and node.name and node.decls is not None:
        return f"{'struct' if isinstance(node, c_ast.Struct) else 'union'} {node.name}"
    return None


def _const(node: c_ast.Node, enums: dict[str, int]) -> int:
    """Fold an array dimension; cffi reads only plain numbers there."""
    if isinstance(node, c_ast.ID) and node.name in enums:
        return enums[node.name]
    if isinstance(node, c_ast.Constant):
        return int(node.value.rstrip("uUlL"), 0)
    if isinstance(node, c_ast.Cast):
        return _const(node.expr, enums)
    if isinstance(node, c_ast.UnaryOp) and node.op == "sizeof":
        return int(cffi.FFI().sizeof(c_generator.CGenerator().visit(node.expr)))
    if isinstance(node, c_ast.UnaryOp) and node.op in "-~+":
        value = _const(node.expr, enums)
        return {"-": -value, "~": ~value, "+": value}[node.op]
    if isinstance(node, c_ast.BinaryOp):
        a, b = _const(node.left, enums), _const(node.right, enums)
        ops: dict[str, Callable[[int, int], int]] = {
            "+": int.__add__, "-": int.__sub__, "*": int.__mul__, "/": int.__floordiv__,
            "<<": int.__lshift__, ">>": int.__rshift__, "|": int.__or__, "&": int.__and__,
        }  # fmt: skip
        return ops[node.op](a, b)
    raise UapiGenerationError(f"array dimension {c_generator.CGenerator().visit(node)} is not constant")


class _FoldDims(c_ast.NodeVisitor):
    """Replace constant expressions in array dimensions by their value, enumerators included."""

    def __init__(self) -> None:
        self.enums: dict[str, int] = {}

    def visit_Enum(self, node: c_ast.Enum) -> None:
        value = -1
        for item in node.values.enumerators if node.values else ():
            value = _const(item.value, self.enums) if item.value is not None else value + 1
            self.enums[item.name] = value

    def visit_ArrayDecl(self, node: c_ast.ArrayDecl) -> None:
        if node.dim is not None and not isinstance(node.dim, c_ast.Constant):
            node.dim = c_ast.Constant("int", str(_const(node.dim, self.enums)))
        self.generic_visit(node)


def declarations(include_dirs: list[Path]) -> Declarations:
    marked = _mark_packed(preprocess(include_dirs))
    # The packed marker sits after a record's closing brace; remember which records close
    # with it by position, then parse the text without the markers.
    packed_names = set()
    for m in re.finditer(r"(struct|union)\s+(\w+)\s*\{", marked):
        depth, i = 0, m.end() - 1
        while True:
            depth += {"{": 1, "}": -1}.get(marked[i], 0)
            if depth == 0:
                break
            i += 1
        if marked[i + 1 : i + 40].lstrip().startswith("__PACKED__"):
            packed_names.add(f"{m.group(1)} {m.group(2)}")
    ast = c_parser.CParser().parse(marked.replace("__PACKED__", ""), filename="<uapi>")
    folder = _FoldDims()
    folder.visit(ast)
    gen = c_generator.CGenerator()
    chunks: list[tuple[str, bool]] = []
    records = []
    for node in ast.ext:
        if isinstance(node, c_ast.FuncDef) or (
            isinstance(node, c_ast.Decl) and isinstance(node.type, c_ast.FuncDecl)
        ):
            continue
        name = _record_name(node.type) if isinstance(node, c_ast.Decl) else None
        if name:
            records.append(name)
        packed = name in packed_names
        text = gen.visit(node) + ";\n"
        if chunks and chunks[-1][1] == packed and not packed:
            chunks[-1] = (chunks[-1][0] + text, False)
        else:
            chunks.append((text, packed))
    typedefs = {node.name for node in ast.ext if isinstance(node, c_ast.Typedef)}
    return Declarations(chunks, records, folder.enums, typedefs)


# --- integer macros -------------------------------------------------------------------

_DEFINE = re.compile(r"^#\s*define\s+(\w+)(\([^)]*\))?[ \t]*(.*)$", re.M)


def macro_table(include_dirs: list[Path]) -> dict[str, tuple[list[str] | None, str]]:
    """All macros visible after including the headers: name -> (params or None, body)."""
    table: dict[str, tuple[list[str] | None, str]] = {}
    for name, params, body in _DEFINE.findall(_cpp(include_dirs, "-dM")):
        args = [p.strip() for p in params[1:-1].split(",") if p.strip()] if params else None
        table[name] = (args, body.strip())
    return table


def header_macro_names(include_dirs: list[Path]) -> list[str]:
    """Object-like macros the V4L2 and media headers themselves define, in header order."""
    names = []
    for header in TOP_HEADERS:
        path = next((d / header for d in include_dirs if (d / header).is_file()), None)
        if path is None:
            raise UapiGenerationError(f"{header} not found in {', '.join(map(str, include_dirs))}")
        text = path.read_text().replace("\\\n", " ")
        names += [name for name, params, _ in _DEFINE.findall(text) if not params]
    return names


_TOKEN = re.compile(
    r"\s*(0[xX][0-9a-fA-F]+[uUlL]*|\d+[uUlL]*|'(?:\\.|[^'])'|\w+|##|<<|>>|&&|\|\||[-+*/%&|^~!()<>=?:,]|\S)"
)
_INT_SUFFIX = re.compile(r"^(0[xX][0-9a-fA-F]+|\d+)[uUlL]*$")
_CASTS = {
    "__u8",
    "__u16",
    "__u32",
    "__u64",
    "__s8",
    "__s16",
    "__s32",
    "__s64",
    "int",
    "unsigned",
    "long",
    "char",
}


def _expand(
    tokens: list[str], macros: dict[str, tuple[list[str] | None, str]], seen: frozenset[str]
) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        entry = macros.get(tok) if tok not in seen else None
        if entry is None:
            out.append(tok)
            i += 1
            continue
        params, body = entry
        if params is None:
            out += _expand(_TOKEN.findall(body), macros, seen | {tok})
            i += 1
            continue
        if i + 1 >= len(tokens) or tokens[i + 1] != "(":
            out.append(tok)
            i += 1
            continue
        args: list[list[str]] = [[]]
        depth, j = 0, i + 1
        while True:
            t = tokens[j]
            if t == "(":
                depth += 1
                if depth > 1:
                    args[-1].append(t)
            elif t == ")":
                depth -= 1
                if depth == 0:
                    break
                args[-1].append(t)
            elif t == "," and depth == 1:
                args.append([])
            else:
                args[-1].append(t)
            j += 1
        bound = dict(zip(params, args, strict=False))
        replaced: list[str] = []
        for t in _TOKEN.findall(body):
            replaced += bound.get(t, [t])
        while "##" in replaced:  # token pasting: _AC(1, UL) -> 1UL
            k = replaced.index("##")
            replaced[k - 1 : k + 2] = [replaced[k - 1] + replaced[k + 1]]
        out += _expand(replaced, macros, seen | {tok})
        i = j + 1
    return out


def evaluate(
    name: str,
    macros: dict[str, tuple[list[str] | None, str]],
    sizeof: Callable[[str], int],
    known: dict[str, int],
    type_names: set[str],
) -> int | None:
    """The integer value of macro ``name``, or None if it is not an integer constant.

    ``known`` resolves enumerators and already evaluated macros; ``type_names`` are the
    typedefs a cast may name.
    """
    tokens = _expand([name], macros, frozenset())
    py: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok == "sizeof":
            depth, j = 0, i + 1
            inner = []
            while True:
                depth += {"(": 1, ")": -1}.get(tokens[j], 0)
                if depth == 0:
                    break
                if j > i + 1:
                    inner.append(tokens[j])
                j += 1
            py.append(str(sizeof(" ".join(inner))))
            i = j + 1
            continue
        # A parenthesised type name is a cast: drop it.
        if tok == "(" and i + 2 < len(tokens) and (tokens[i + 1] in _CASTS or tokens[i + 1] in type_names):
            j = i + 1
            while tokens[j] in _CASTS or tokens[j] in type_names:
                j += 1
            if tokens[j] == ")":
                i = j + 1
                continue
        if m := _INT_SUFFIX.match(tok):
            digits = m.group(1)
            octal = len(digits) > 1 and digits[0] == "0" and digits[1] not in "xX"
            py.append(str(int(digits, 8 if octal else 0)))
        elif tok in known:
            py.append(f"({known[tok]})")
        elif tok.startswith("'"):
            py.append(str(ord(tok[1:-1].encode().decode("unicode_escape"))))
        elif tok in ("/", "!", "&&", "||", "?", ":") or tok.isidentifier():
            return None
        else:
            py.append(tok)
        i += 1
    if not py:
        return None
    try:
        value = eval(" ".join(py), {"__builtins__": {}}, {})
    except (SyntaxError, TypeError, ZeroDivisionError):
        return None
    return value if isinstance(value, int) else None


def ioctl_struct(name: str, macros: dict[str, tuple[list[str] | None, str]]) -> str | None:
    """The argument type named in an ioctl definition (``_IOWR('V', 4, struct v4l2_format)``)."""
    body = macros.get(name, (None, ""))[1]
    m = re.match(r"_IO[RW]*\s*\(\s*[^,]+,\s*[^,]+,\s*(.+)\)\s*$", body)
    return m.group(1).strip() if m else None


# --- the cached result ------------------------------------------------------------------


def generate(include_dirs: list[Path]) -> dict[str, Any]:
    """Everything conform.uapi loads, as JSON-ready data."""
    decls = declarations(include_dirs)
    ffi = cffi.FFI()
    for text, packed in decls.chunks:
        ffi.cdef(text, packed=packed)
    macros = macro_table(include_dirs)
    constants: dict[str, int] = {}
    known = dict(decls.enums)
    for name in header_macro_names(include_dirs):
        value = evaluate(name, macros, ffi.sizeof, known, decls.typedefs)
        if value is not None and not name.startswith("__"):
            constants[name] = known[name] = value
    ioctls = {
        name: [value, ioctl_struct(name, macros)]
        for name, value in constants.items()
        if name.startswith(_IOCTL_PREFIXES)
    }
    return {
        "chunks": decls.chunks,
        "records": decls.records,
        "enums": decls.enums,
        "constants": constants,
        "ioctls": ioctls,
    }
