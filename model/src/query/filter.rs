//! The `filter` parser and its syntax tree.
//!
//! A small recursive-descent parser over the tokens of [`super::lexer`].
//! Grammar (keywords case-insensitive):
//!
//! ```text
//! filter     := or
//! or         := and ("or" and)*
//! and        := unary ("and" unary)*
//! unary      := "not" unary | primary
//! primary    := "(" or ")" | function | comparison
//! function   := ("startswith" | "endswith" | "contains") "(" field "," string ")"
//!               [("eq" | "ne") ("true" | "false")]
//! comparison := operand ("eq"|"ne"|"gt"|"ge"|"lt"|"le") operand
//!             | field "in" "(" literal ("," literal)* ")"
//! operand    := field | literal
//! literal    := string | number | "true" | "false" | "null"
//! ```
//!
//! Type checking happens while parsing, against the [`ResourceSpec`]: the
//! tree only ever holds known fields and literals already converted to their
//! stored form ([`SqlValue`](super::SqlValue), see [`super::literal`]), so
//! compiling it to SQL cannot fail. The tree itself is in [`super::expr`].

use super::expr::{CompareOp, Expr, TextFunction};
use super::lexer::{tokenize, Token, TokenKind};
use super::literal::{convert, Literal};
use super::{FieldKind, FieldSpec, QueryError, ResourceSpec};
use super::{MAX_FILTER_CHARS, MAX_FILTER_DEPTH};

const KEYWORDS: [&str; 13] = [
    "and", "or", "not", "eq", "ne", "gt", "ge", "lt", "le", "in", "true", "false", "null",
];

fn is_keyword(word: &str) -> bool {
    KEYWORDS.iter().any(|kw| word.eq_ignore_ascii_case(kw))
}

pub(super) fn error(message: String) -> QueryError {
    QueryError::new("filter", message)
}

/// One side of a comparison.
enum Operand {
    Field(&'static FieldSpec),
    Literal(Literal),
}

/// Parses and type-checks a (non-blank) filter.
pub(crate) fn parse_filter(input: &str, spec: &ResourceSpec) -> Result<Expr, QueryError> {
    if input.chars().count() > MAX_FILTER_CHARS {
        return Err(error(format!(
            "filter must be at most {MAX_FILTER_CHARS} characters"
        )));
    }
    let mut parser = Parser {
        tokens: tokenize(input)?,
        index: 0,
        spec,
        depth: 0,
    };
    let expr = parser.parse_or()?;
    if parser.peek().kind != TokenKind::End {
        return Err(parser.expected("'and', 'or' or the end of the filter"));
    }
    Ok(expr)
}

struct Parser<'s> {
    /// Never empty: the last token is always [`TokenKind::End`].
    tokens: Vec<Token>,
    index: usize,
    spec: &'s ResourceSpec,
    /// Current nesting of parentheses and `not`, see [`MAX_FILTER_DEPTH`].
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        self.peek_at(0)
    }

    /// The token `offset` places ahead, or the final `End` token.
    fn peek_at(&self, offset: usize) -> &Token {
        let last = self.tokens.len().saturating_sub(1);
        &self.tokens[(self.index + offset).min(last)]
    }

    fn peek_keyword(&self, offset: usize, keyword: &str) -> bool {
        matches!(&self.peek_at(offset).kind, TokenKind::Ident(w) if w.eq_ignore_ascii_case(keyword))
    }

    /// Consumes the current token; stays on `End`.
    fn advance(&mut self) -> Token {
        let token = self.peek().clone();
        if token.kind != TokenKind::End {
            self.index += 1;
        }
        token
    }

    /// "expected {what} at position N in filter, found {current token}".
    fn expected(&self, what: &str) -> QueryError {
        let token = self.peek();
        error(format!(
            "expected {what} at position {} in filter, found {}",
            token.pos,
            token.describe()
        ))
    }

    /// Consumes a token of exactly this kind or reports `expected {what}`.
    fn expect(&mut self, kind: TokenKind, what: &str) -> Result<(), QueryError> {
        if self.peek().kind == kind {
            self.advance();
            Ok(())
        } else {
            Err(self.expected(what))
        }
    }

    fn enter(&mut self, pos: usize) -> Result<(), QueryError> {
        self.depth += 1;
        if self.depth > MAX_FILTER_DEPTH {
            return Err(error(format!(
                "filter is nested too deeply at position {pos} \
                 (at most {MAX_FILTER_DEPTH} levels of parentheses and 'not')"
            )));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn parse_or(&mut self) -> Result<Expr, QueryError> {
        let mut items = Vec::new();
        push_flat(&mut items, self.parse_and()?, true);
        while self.peek_keyword(0, "or") {
            self.advance();
            push_flat(&mut items, self.parse_and()?, true);
        }
        Ok(collapse(items, Expr::Or))
    }

    fn parse_and(&mut self) -> Result<Expr, QueryError> {
        let mut items = Vec::new();
        push_flat(&mut items, self.parse_unary()?, false);
        while self.peek_keyword(0, "and") {
            self.advance();
            push_flat(&mut items, self.parse_unary()?, false);
        }
        Ok(collapse(items, Expr::And))
    }

    fn parse_unary(&mut self) -> Result<Expr, QueryError> {
        if self.peek_keyword(0, "not") {
            let not = self.advance();
            self.enter(not.pos)?;
            let inner = self.parse_unary()?;
            self.leave();
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.parse_primary()
    }

    fn parse_primary(&mut self) -> Result<Expr, QueryError> {
        let token = self.peek().clone();
        match &token.kind {
            TokenKind::LParen => {
                self.advance();
                self.enter(token.pos)?;
                let expr = self.parse_or()?;
                self.expect(TokenKind::RParen, "')'")?;
                self.leave();
                Ok(expr)
            }
            TokenKind::Ident(name)
                if !is_keyword(name) && self.peek_at(1).kind == TokenKind::LParen =>
            {
                self.parse_function(name, token.pos)
            }
            _ => self.parse_comparison(),
        }
    }

    /// `name(field,'text') [eq|ne true|false]`; the current token is `name`.
    fn parse_function(&mut self, name: &str, pos: usize) -> Result<Expr, QueryError> {
        let Some(function) = TextFunction::from_name(name) else {
            return Err(error(format!(
                "unknown function '{name}' at position {pos} in filter; \
                 functions: startswith, endswith, contains"
            )));
        };
        self.advance();
        self.expect(TokenKind::LParen, "'('")?;
        let field = match self.peek().kind.clone() {
            TokenKind::Ident(field) if !is_keyword(&field) => self.resolve_field(&field)?,
            _ => return Err(self.expected("a field name")),
        };
        self.advance();
        if !matches!(field.kind, FieldKind::Text | FieldKind::Enum(_)) {
            return Err(error(format!(
                "{}() in filter needs a text field, but '{}' is {}",
                function.name(),
                field.name,
                field.kind.expectation_noun()
            )));
        }
        self.expect(TokenKind::Comma, "','")?;
        let text = match self.peek().kind.clone() {
            TokenKind::Str(text) => text,
            _ => return Err(self.expected("a quoted string")),
        };
        self.advance();
        self.expect(TokenKind::RParen, "')'")?;
        let expr = Expr::Text {
            field,
            function,
            text,
        };

        // OData v2/v3 style `contains(a,'x') eq true`.
        let negate_op = self.peek_keyword(0, "ne");
        if (self.peek_keyword(0, "eq") || negate_op)
            && (self.peek_keyword(1, "true") || self.peek_keyword(1, "false"))
        {
            let negate_value = self.peek_keyword(1, "false");
            self.advance();
            self.advance();
            if negate_op != negate_value {
                return Ok(Expr::Not(Box::new(expr)));
            }
        }
        Ok(expr)
    }

    fn parse_comparison(&mut self) -> Result<Expr, QueryError> {
        let left_pos = self.peek().pos;
        let left = self.parse_operand()?;
        let op = match &self.peek().kind {
            TokenKind::Ident(word) if word.eq_ignore_ascii_case("in") => None,
            TokenKind::Ident(word) => match CompareOp::from_keyword(word) {
                Some(op) => Some(op),
                None => return Err(self.expected(OPERATOR_EXPECTED)),
            },
            _ => return Err(self.expected(OPERATOR_EXPECTED)),
        };
        let op_pos = self.advance().pos;
        let Some(op) = op else {
            return match left {
                Operand::Field(field) => self.parse_in_list(field),
                Operand::Literal(_) => Err(error(format!(
                    "'in' at position {op_pos} in filter needs a field name on its left"
                ))),
            };
        };
        let right = self.parse_operand()?;
        match (left, right) {
            (Operand::Field(field), Operand::Literal(value)) => self.compare(field, op, value),
            (Operand::Literal(value), Operand::Field(field)) => {
                self.compare(field, op.mirrored(), value)
            }
            (Operand::Field(a), Operand::Field(b)) => Err(error(format!(
                "comparing two fields ('{}' and '{}') is not supported in filter",
                a.name, b.name
            ))),
            (Operand::Literal(_), Operand::Literal(_)) => Err(error(format!(
                "the comparison at position {left_pos} in filter has no field; \
                 one side must be a field name"
            ))),
        }
    }

    /// `( literal, ... )` after `field in`.
    fn parse_in_list(&mut self, field: &'static FieldSpec) -> Result<Expr, QueryError> {
        self.expect(TokenKind::LParen, "'(' after 'in'")?;
        let mut values = Vec::new();
        loop {
            let literal = self.parse_literal()?;
            if literal == Literal::Null {
                return Err(error(format!(
                    "null cannot be used in an 'in' list (field '{}'); use 'eq null'",
                    field.name
                )));
            }
            values.push(convert(self.spec, field, literal)?);
            match self.peek().kind {
                TokenKind::Comma => {
                    self.advance();
                }
                TokenKind::RParen => {
                    self.advance();
                    return Ok(Expr::In { field, values });
                }
                _ => return Err(self.expected("',' or ')'")),
            }
        }
    }

    fn parse_operand(&mut self) -> Result<Operand, QueryError> {
        let operand = match self.peek().kind.clone() {
            TokenKind::Ident(word) if !is_keyword(&word) => {
                Operand::Field(self.resolve_field(&word)?)
            }
            _ => match self.literal_here() {
                Some(literal) => Operand::Literal(literal),
                None => return Err(self.expected("a field name or a value")),
            },
        };
        self.advance();
        Ok(operand)
    }

    fn parse_literal(&mut self) -> Result<Literal, QueryError> {
        match self.literal_here() {
            Some(literal) => {
                self.advance();
                Ok(literal)
            }
            None => Err(self.expected("a value")),
        }
    }

    /// The current token as a literal, if it is one (does not consume it).
    fn literal_here(&self) -> Option<Literal> {
        match &self.peek().kind {
            TokenKind::Str(text) => Some(Literal::Str(text.clone())),
            TokenKind::Number(text) => Some(Literal::Number(text.clone())),
            TokenKind::Ident(word) if word.eq_ignore_ascii_case("true") => {
                Some(Literal::Bool(true))
            }
            TokenKind::Ident(word) if word.eq_ignore_ascii_case("false") => {
                Some(Literal::Bool(false))
            }
            TokenKind::Ident(word) if word.eq_ignore_ascii_case("null") => Some(Literal::Null),
            _ => None,
        }
    }

    fn resolve_field(&self, name: &str) -> Result<&'static FieldSpec, QueryError> {
        match self.spec.field(name) {
            Some(field) if field.filterable => Ok(field),
            Some(_) => Err(error(format!(
                "field '{name}' cannot be used in filter; fields: {}",
                self.spec.filterable_names()
            ))),
            None => {
                let hint = self
                    .spec
                    .fields
                    .iter()
                    .find(|f| f.filterable && f.name.eq_ignore_ascii_case(name))
                    .map(|f| format!(" (did you mean '{}'?)", f.name))
                    .unwrap_or_default();
                Err(error(format!(
                    "unknown field '{name}' in filter{hint}; fields: {}",
                    self.spec.filterable_names()
                )))
            }
        }
    }

    /// Builds `field op literal` after checking the operator suits the field.
    fn compare(
        &self,
        field: &'static FieldSpec,
        op: CompareOp,
        literal: Literal,
    ) -> Result<Expr, QueryError> {
        let equality = matches!(op, CompareOp::Eq | CompareOp::Ne);
        if literal == Literal::Null {
            return if equality {
                Ok(Expr::IsNull {
                    field,
                    negated: op == CompareOp::Ne,
                })
            } else {
                Err(error(format!(
                    "null can only be compared with eq or ne, not {} (field '{}' in filter)",
                    op.keyword(),
                    field.name
                )))
            };
        }
        if !equality && matches!(field.kind, FieldKind::Bool | FieldKind::Enum(_)) {
            return Err(error(format!(
                "'{}' cannot be used with field '{}' in filter; use eq, ne or in",
                op.keyword(),
                field.name
            )));
        }
        let value = convert(self.spec, field, literal)?;
        Ok(Expr::Compare { field, op, value })
    }
}

const OPERATOR_EXPECTED: &str = "an operator (eq, ne, gt, ge, lt, le, in)";

/// Appends `expr` to an `and`/`or` list, splicing in a child list of the
/// same connective (from parentheses) so the tree stays flat.
fn push_flat(items: &mut Vec<Expr>, expr: Expr, is_or: bool) {
    match expr {
        Expr::Or(inner) if is_or => items.extend(inner),
        Expr::And(inner) if !is_or => items.extend(inner),
        other => items.push(other),
    }
}

fn collapse(mut items: Vec<Expr>, connective: fn(Vec<Expr>) -> Expr) -> Expr {
    match items.len() {
        1 => items.remove(0),
        _ => connective(items),
    }
}
