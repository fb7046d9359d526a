"""Parse a ``$filter`` expression into :mod:`.nodes` (OData precedence: not > comparison >
and > or).

Grammar::

    or_expr   := and_expr ("or" and_expr)*
    and_expr  := cmp_expr ("and" cmp_expr)*
    cmp_expr  := unary (("eq"|"ne"|"gt"|"ge"|"lt"|"le") unary)*
    unary     := "not" unary | primary
    primary   := "(" or_expr ")" | literal | call | crm_call | path
    crm_call  := "Microsoft.Dynamics.CRM." name "(" [param ("," param)*] ")"
    param     := name "=" (literal | "[" [literal ("," literal)*] "]")
"""

from __future__ import annotations

from .errors import invalid_query, syntax_error
from .lexer import Token, tokenize
from .nodes import (
    COMPARISONS,
    Call,
    Compare,
    CrmCall,
    ListLiteral,
    Literal,
    Logical,
    Node,
    Not,
    Property,
)

CRM_PREFIX = "Microsoft.Dynamics.CRM."
_KEYWORD_LITERALS = {"true": ("boolean", True), "false": ("boolean", False), "null": ("null", None)}
_LITERAL_TOKENS = ("string", "integer", "decimal", "guid", "datetime", "date")


def parse_filter(text: str) -> Node:
    """The AST of a ``$filter`` value; syntax errors name the position (0-based)."""
    if not text.strip():
        raise invalid_query("The $filter expression is empty.")
    parser = _Parser(text)
    node = parser.or_expr()
    if parser.peek.kind != "end":
        raise syntax_error(text, parser.peek.pos)
    return node


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0

    @property
    def peek(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def keyword(self, *words: str) -> str | None:
        token = self.peek
        if token.kind == "identifier" and token.text in words:
            self.index += 1
            return token.text
        return None

    def expect(self, kind: str, description: str) -> Token:
        token = self.peek
        if token.kind != kind:
            raise invalid_query(f"{description} expected at position {token.pos} in '{self.text}'.")
        return self.advance()

    # ------------------------------------------------------------ precedence

    def or_expr(self) -> Node:
        node = self.and_expr()
        while self.keyword("or"):
            node = Logical("or", node, self.and_expr())
        return node

    def and_expr(self) -> Node:
        node = self.cmp_expr()
        while self.keyword("and"):
            node = Logical("and", node, self.cmp_expr())
        return node

    def cmp_expr(self) -> Node:
        node = self.unary()
        while True:
            pos = self.peek.pos
            op = self.keyword(*COMPARISONS)
            if op is None:
                return node
            node = Compare(op, node, self.unary(), pos)

    def unary(self) -> Node:
        pos = self.peek.pos
        if self.keyword("not"):
            return Not(self.unary(), pos)
        return self.primary()

    # --------------------------------------------------------------- primary

    def primary(self) -> Node:
        token = self.peek
        if token.kind == "lparen":
            self.advance()
            node = self.or_expr()
            self.expect("rparen", "')' or operator")
            return node
        if token.kind in _LITERAL_TOKENS:
            return self.literal()
        if token.kind == "identifier":
            if token.text in _KEYWORD_LITERALS:
                return self.literal()
            self.advance()
            if self.peek.kind == "lparen":
                return self.call(token)
            return self.path(token)
        if token.kind == "end":
            raise invalid_query(f"Expression expected at position {token.pos} in '{self.text}'.")
        raise syntax_error(self.text, token.pos)

    def literal(self) -> Literal:
        token = self.advance()
        if token.kind == "identifier":
            kind, value = _KEYWORD_LITERALS[token.text]
            return Literal(kind, value, token.pos)
        if token.kind == "integer":
            return Literal("integer", token.value, token.pos)
        if token.kind == "guid":
            return Literal("guid", token.value.lower(), token.pos)
        if token.kind not in _LITERAL_TOKENS:
            raise syntax_error(self.text, token.pos)
        return Literal(token.kind, token.value, token.pos)

    def path(self, first: Token) -> Property:
        parts = [first.text]
        while self.peek.kind == "slash":
            self.advance()
            segment = self.expect("identifier", "Property name")
            if self.peek.kind == "lparen":
                raise invalid_query(
                    f"The function '{segment.text}' at position {segment.pos} is not "
                    "supported in $filter by this service."
                )
            parts.append(segment.text)
        return Property(tuple(parts), first.pos)

    def call(self, name: Token) -> Node:
        self.expect("lparen", "'('")
        if name.text.startswith(CRM_PREFIX):
            return self.crm_call(name)
        args: list[Node] = []
        if self.peek.kind != "rparen":
            args.append(self.or_expr())
            while self.peek.kind == "comma":
                self.advance()
                args.append(self.or_expr())
        self.expect("rparen", "')' or ','")
        return Call(name.text, tuple(args), name.pos)

    def crm_call(self, name: Token) -> CrmCall:
        params: dict[str, Literal | ListLiteral] = {}
        if self.peek.kind != "rparen":
            while True:
                param = self.expect("identifier", "Parameter name")
                self.expect("equals", "'='")
                params[param.text] = self.param_value()
                if self.peek.kind != "comma":
                    break
                self.advance()
        self.expect("rparen", "')' or ','")
        return CrmCall(name.text[len(CRM_PREFIX) :], params, name.pos)

    def param_value(self) -> Literal | ListLiteral:
        token = self.peek
        if token.kind != "lbracket":
            return self.literal()
        self.advance()
        items: list[Literal] = []
        if self.peek.kind != "rbracket":
            items.append(self.literal())
            while self.peek.kind == "comma":
                self.advance()
                items.append(self.literal())
        self.expect("rbracket", "']' or ','")
        return ListLiteral(tuple(items), token.pos)
