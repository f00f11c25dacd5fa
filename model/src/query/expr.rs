//! The syntax tree of a validated filter, as [`super::filter`] builds it
//! and [`super::sql`] compiles it.

use super::{FieldSpec, SqlValue};

/// A validated filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// All must hold. Nested `and`s are flattened; always 2+ items.
    And(Vec<Expr>),
    /// Any must hold. Nested `or`s are flattened; always 2+ items.
    Or(Vec<Expr>),
    Not(Box<Expr>),
    /// `field op value`, with the field always on the left (a literal written
    /// on the left is moved to the right and the operator mirrored).
    Compare {
        field: &'static FieldSpec,
        op: CompareOp,
        value: SqlValue,
    },
    /// `field eq null` (`negated: false`) or `field ne null` (`negated: true`).
    IsNull {
        field: &'static FieldSpec,
        negated: bool,
    },
    /// `startswith` / `endswith` / `contains`, case-insensitive. `text` is
    /// the literal as written (not lowercased, not escaped).
    Text {
        field: &'static FieldSpec,
        function: TextFunction,
        text: String,
    },
    /// `field in (v1, v2, ...)`; never empty.
    In {
        field: &'static FieldSpec,
        values: Vec<SqlValue>,
    },
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    pub(super) fn from_keyword(word: &str) -> Option<CompareOp> {
        const OPS: [(&str, CompareOp); 6] = [
            ("eq", CompareOp::Eq),
            ("ne", CompareOp::Ne),
            ("gt", CompareOp::Gt),
            ("ge", CompareOp::Ge),
            ("lt", CompareOp::Lt),
            ("le", CompareOp::Le),
        ];
        OPS.iter()
            .find(|(kw, _)| word.eq_ignore_ascii_case(kw))
            .map(|&(_, op)| op)
    }

    /// The OData keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }

    /// The SQL operator (same in SQLite and PostgreSQL).
    pub fn sql(self) -> &'static str {
        match self {
            CompareOp::Eq => "=",
            CompareOp::Ne => "<>",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
        }
    }

    /// The operator with its operands swapped: `5 lt x` is `x gt 5`.
    pub(super) fn mirrored(self) -> CompareOp {
        match self {
            CompareOp::Gt => CompareOp::Lt,
            CompareOp::Ge => CompareOp::Le,
            CompareOp::Lt => CompareOp::Gt,
            CompareOp::Le => CompareOp::Ge,
            same => same,
        }
    }
}

/// The string functions of the filter language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFunction {
    StartsWith,
    EndsWith,
    Contains,
}

impl TextFunction {
    const ALL: [TextFunction; 3] = [
        TextFunction::StartsWith,
        TextFunction::EndsWith,
        TextFunction::Contains,
    ];

    /// The OData function name.
    pub fn name(self) -> &'static str {
        match self {
            TextFunction::StartsWith => "startswith",
            TextFunction::EndsWith => "endswith",
            TextFunction::Contains => "contains",
        }
    }

    pub(super) fn from_name(name: &str) -> Option<TextFunction> {
        Self::ALL
            .into_iter()
            .find(|f| name.eq_ignore_ascii_case(f.name()))
    }
}
