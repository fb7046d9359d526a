"""Split a ``$filter`` expression into tokens, remembering where each one starts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .errors import invalid_query

_WHITESPACE = re.compile(r"\s+")
GUID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![\w-])"
)
_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?(?:Z|[+-]\d{2}:\d{2})?(?![\w:.])"
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?![\w:.-])")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?[mMdDfFlL]?(?![\w.])")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_PUNCTUATION = {
    "(": "lparen",
    ")": "rparen",
    ",": "comma",
    "=": "equals",
    "[": "lbracket",
    "]": "rbracket",
    "/": "slash",
    ":": "colon",
}


@dataclass(frozen=True, slots=True)
class Token:
    """One token: its kind, its text as written, its value and its 0-based position."""

    kind: str
    text: str
    value: Any
    pos: int


def tokenize(text: str) -> list[Token]:
    """All tokens of ``text`` followed by an ``end`` token."""
    tokens: list[Token] = []
    pos = 0
    length = len(text)
    while pos < length:
        space = _WHITESPACE.match(text, pos)
        if space:
            pos = space.end()
            continue
        token = _next_token(text, pos)
        tokens.append(token)
        pos += len(token.text)
    tokens.append(Token("end", "", None, length))
    return tokens


def _next_token(text: str, pos: int) -> Token:
    char = text[pos]
    if char in ("'", '"'):
        return _string(text, pos, char)
    if char in _PUNCTUATION:
        return Token(_PUNCTUATION[char], char, char, pos)
    for pattern, kind in ((GUID, "guid"), (_DATETIME, "datetime"), (_DATE, "date")):
        match = pattern.match(text, pos)
        if match:
            return Token(kind, match.group(), match.group(), pos)
    match = _NUMBER.match(text, pos)
    if match:
        return _number(match, pos)
    match = _IDENTIFIER.match(text, pos)
    if match:
        return Token("identifier", match.group(), match.group(), pos)
    raise invalid_query(
        f"Syntax error: character '{char}' is not valid at position {pos} in '{text}'."
    )


def _string(text: str, pos: int, quote: str) -> Token:
    """A quoted literal; a doubled quote stands for one quote character."""
    index = pos + 1
    parts: list[str] = []
    while True:
        end = text.find(quote, index)
        if end == -1:
            raise invalid_query(
                f"There is an unterminated string literal at position {pos} in '{text}'."
            )
        parts.append(text[index:end])
        if text.startswith(quote * 2, end):
            parts.append(quote)
            index = end + 2
            continue
        return Token("string", text[pos : end + 1], "".join(parts), pos)


def _number(match: re.Match[str], pos: int) -> Token:
    raw = match.group()
    digits = raw.rstrip("mMdDfFlL")
    if match.group(1) or match.group(2) or raw[-1:] in ("m", "M", "d", "D", "f", "F"):
        return Token("decimal", raw, float(digits), pos)
    return Token("integer", raw, int(digits), pos)
