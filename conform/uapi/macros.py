"""Expand C macros and evaluate integer constant expressions, as far as UAPI headers need.

The preprocessor has already decided every ``#if``; what is left is turning macro
definitions such as ``v4l2_fourcc('N', 'V', '1', '2')`` or ``_IOWR('V', 5, struct
v4l2_format)`` into numbers.  The evaluator is a small recursive-descent parser over
tokens, never ``eval``: anything it does not understand means "not an integer
constant" (strings, floats, unknown identifiers), and the macro is skipped.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

_TOKEN = re.compile(
    r"""\s*(
        (?:0[xX][0-9a-fA-F]+|\d+)[uUlL]*      # integer with suffix
      | '(?:\\.|[^'\\])+'                     # character constant
      | "(?:\\.|[^"\\])*"                     # string literal (never an integer)
      | [A-Za-z_]\w*
      | \#\# | << | >> | <= | >= | == | != | && | \|\| | \.\.\.
      | \S
    )""",
    re.X,
)
_INTEGER = re.compile(r"^(0[xX][0-9a-fA-F]+|\d+)[uUlL]*$")
_TYPE_WORDS = frozenset(
    {"unsigned", "signed", "int", "long", "short", "char", "_Bool", "void"}
    | {"const", "volatile", "struct", "union", "enum"}
)


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text)


@dataclass(frozen=True, slots=True)
class Macro:
    params: tuple[str, ...] | None
    """None for an object-like macro."""
    body: tuple[str, ...]


_DEFINE = re.compile(r"#\s*define\s+(\w+)(\([^)]*\))?(.*)")


def parse_define(line: str) -> tuple[str, Macro] | None:
    """``#define NAME(params) body`` as cpp -dD prints it (one line), or None."""
    m = _DEFINE.match(line)
    if m is None:
        return None
    name, params, body = m.groups()
    # A function-like macro has its parenthesis right after the name, with no space.
    args = tuple(p.strip() for p in params[1:-1].split(",") if p.strip()) if params else None
    return name, Macro(args, tuple(tokenize(body)))


class NotConstant(Exception):
    """The expression is not an integer constant expression this evaluator can fold."""


@dataclass
class Expansion:
    tokens: list[str]
    used: set[str] = field(default_factory=set)
    """Every macro expanded on the way; tells an ioctl (it went through ``_IOC``)."""


def expand(tokens: list[str], macros: Mapping[str, Macro]) -> Expansion:
    result = Expansion([])
    result.tokens = _expand(tokens, macros, frozenset(), result.used)
    return result


def _expand(
    tokens: list[str], macros: Mapping[str, Macro], hidden: frozenset[str], used: set[str]
) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        macro = macros.get(tok) if tok not in hidden else None
        if macro is None or (macro.params is not None and tokens[i + 1 : i + 2] != ["("]):
            out.append(tok)
            i += 1
            continue
        used.add(tok)
        if macro.params is None:
            out += _expand(list(macro.body), macros, hidden | {tok}, used)
            i += 1
            continue
        args, i = _arguments(tokens, i + 1)
        body = _substitute(macro, args, macros, hidden, used)
        # Painting the name while rescanning its own replacement is what stops recursion in C.
        out += _expand(body, macros, hidden | {tok}, used)
    return out


def _arguments(tokens: list[str], start: int) -> tuple[list[list[str]], int]:
    """The comma-separated arguments of the call whose ``(`` is at ``start``; index after ``)``."""
    args: list[list[str]] = [[]]
    depth = 0
    for j in range(start, len(tokens)):
        tok = tokens[j]
        if tok == "(":
            depth += 1
            if depth == 1:
                continue
        elif tok == ")":
            depth -= 1
            if depth == 0:
                return ([] if args == [[]] else args), j + 1
        elif tok == "," and depth == 1:
            args.append([])
            continue
        args[-1].append(tok)
    raise NotConstant("unbalanced parentheses in a macro call")


def _substitute(
    macro: Macro, args: list[list[str]], macros: Mapping[str, Macro], hidden: frozenset[str], used: set[str]
) -> list[str]:
    params = macro.params or ()
    if params and params[-1] == "...":
        fixed = len(params) - 1
        rest = [t for k, a in enumerate(args[fixed:]) for t in ([","] if k else []) + a]
        bound = dict(zip(params[:fixed], args[:fixed], strict=False)) | {"__VA_ARGS__": rest}
    else:
        if len(args) != len(params):
            raise NotConstant(f"macro takes {len(params)} arguments, got {len(args)}")
        bound = dict(zip(params, args, strict=True))
    body = list(macro.body)
    out: list[str] = []
    for k, tok in enumerate(body):
        if tok not in bound:
            out.append(tok)
        elif "##" in (body[k - 1 : k] + body[k + 1 : k + 2]):
            out += bound[tok]  # operands of ## are pasted unexpanded
        else:
            out += _expand(bound[tok], macros, hidden, used)
    while "##" in out:  # _AC(1, UL) -> 1UL
        k = out.index("##")
        out[k - 1 : k + 2] = [out[k - 1] + out[k + 1]]
    return out


# Binding strength of C's binary operators (higher binds tighter).
_BINARY: dict[str, int] = {
    "||": 1, "&&": 2, "|": 3, "^": 4, "&": 5, "==": 6, "!=": 6,
    "<": 7, ">": 7, "<=": 7, ">=": 7, "<<": 8, ">>": 8, "+": 9, "-": 9, "*": 10, "/": 10, "%": 10,
}  # fmt: skip


def _c_div(a: int, b: int) -> int:
    if b == 0:
        raise NotConstant("division by zero")
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def _apply(op: str, a: int, b: int) -> int:
    if op in ("<<", ">>") and b < 0:
        raise NotConstant("negative shift")
    match op:
        case "||":
            return int(bool(a) or bool(b))
        case "&&":
            return int(bool(a) and bool(b))
        case "|":
            return a | b
        case "^":
            return a ^ b
        case "&":
            return a & b
        case "==":
            return int(a == b)
        case "!=":
            return int(a != b)
        case "<":
            return int(a < b)
        case ">":
            return int(a > b)
        case "<=":
            return int(a <= b)
        case ">=":
            return int(a >= b)
        case "<<":
            return a << b
        case ">>":
            return a >> b
        case "+":
            return a + b
        case "-":
            return a - b
        case "*":
            return a * b
        case "/":
            return _c_div(a, b)
        case _:  # "%": C's remainder takes the dividend's sign
            return a - b * _c_div(a, b)


def char_value(token: str) -> int:
    """``'N'``, ``'\\0'``, ``'\\x41'``: C and Python spell single characters alike."""
    text = ast.literal_eval(token)
    if not isinstance(text, str) or len(text) != 1:
        raise NotConstant(f"multi-character constant {token}")
    return ord(text)


def integer_value(token: str) -> int:
    m = _INTEGER.match(token)
    if m is None:
        raise NotConstant(f"{token} is not an integer")
    digits = m.group(1)
    if len(digits) > 1 and digits[0] == "0" and digits[1] not in "xX":
        return int(digits, 8)
    return int(digits, 0)


@dataclass
class Evaluator:
    """Folds one token list; types (casts, sizeof) are answered by the callbacks.

    Values are Python integers, not C's fixed-width ones: ``1U << 31`` is 2147483648 and so
    is ``1 << 31`` (negative in C), which is the value a ``__u32`` field wants.  Casts do
    truncate, through ``cast``.
    """

    tokens: list[str]
    known: Mapping[str, int]
    sizeof: Callable[[str], int]
    cast: Callable[[str, int], int]
    is_type: Callable[[str], bool]
    pos: int = 0
    sizeof_types: list[str] = field(default_factory=list)

    def value(self) -> int:
        result = self._conditional()
        if self.pos != len(self.tokens):
            raise NotConstant(f"trailing {' '.join(self.tokens[self.pos :])}")
        return result

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _next(self) -> str:
        tok = self._peek()
        if tok is None:
            raise NotConstant("expression ends early")
        self.pos += 1
        return tok

    def _expect(self, tok: str) -> None:
        if self._next() != tok:
            raise NotConstant(f"expected {tok}")

    def _conditional(self) -> int:
        cond = self._binary(1)
        if self._peek() != "?":
            return cond
        self.pos += 1
        yes = self._conditional()
        self._expect(":")
        no = self._conditional()
        return yes if cond else no

    def _binary(self, strength: int) -> int:
        left = self._unary()
        while (op := self._peek()) in _BINARY and _BINARY[op] >= strength:
            self.pos += 1
            right = self._binary(_BINARY[op] + 1)
            left = _apply(op, left, right)
        return left

    def _type_name(self) -> str:
        """Tokens up to the ``)`` closing a cast or sizeof, as one type string."""
        words: list[str] = []
        while (tok := self._next()) != ")":
            words.append(tok)
        return " ".join(words)

    def _starts_type(self) -> bool:
        tok = self._peek()
        return tok is not None and (tok in _TYPE_WORDS or (tok not in self.known and self.is_type(tok)))

    def _unary(self) -> int:
        tok = self._next()
        if tok == "(":
            if self._starts_type():
                ctype = self._type_name()
                return self.cast(ctype, self._unary())
            inner = self._conditional()
            self._expect(")")
            return inner
        if tok in ("-", "+", "~", "!"):
            operand = self._unary()
            return {"-": -operand, "+": operand, "~": ~operand, "!": int(not operand)}[tok]
        if tok == "sizeof":
            self._expect("(")
            ctype = self._type_name()
            self.sizeof_types.append(ctype)
            return self.sizeof(ctype)
        if tok[0].isdigit():
            return integer_value(tok)
        if tok[0] == "'":
            return char_value(tok)
        if tok in self.known:
            return self.known[tok]
        raise NotConstant(f"{tok} is not an integer constant")
