//! List queries: `filter`, `search`, `orderby`, `skip`, `top`.
//!
//! Every list endpoint of the PortSIP PBX v22 style API takes the same five
//! query parameters and answers `{count, items}`. This module turns the raw
//! strings ([`ListParams`]) into a validated [`ListQuery`] and compiles that
//! into SQL fragments ([`SqlParts`]) with every literal bound as a parameter.
//!
//! The flow is deliberately two-step:
//!
//! 1. [`ListQuery::parse`] checks everything against a [`ResourceSpec`]
//!    (unknown fields, wrong literal types, bounds) and reports problems as a
//!    [`QueryError`] that names the offending parameter, so the HTTP layer can
//!    answer 400 with a useful message. All conversions that can fail (money
//!    scaling, timestamps, id decoding) happen here.
//! 2. [`ListQuery::to_sql`] cannot fail: it only prints SQL and collects the
//!    already converted bind values.
//!
//! No I/O and no database crates live here because the `model` crate is also
//! compiled to wasm for the portal.
//!
//! # Filter language
//!
//! The OData subset documented by PortSIP:
//!
//! * comparisons `eq ne gt ge lt le`, e.g. `interval_1 ge 60`;
//! * `field in ('a','b')` for a list of values;
//! * `and`, `or`, `not` with precedence `not` > `and` > `or`, and parentheses;
//! * `startswith(field,'text')`, `endswith(field,'text')`,
//!   `contains(field,'text')` — case-insensitive, text and enum fields only,
//!   optionally followed by `eq true` / `eq false` (older OData style);
//! * literals: `'single quoted'` strings (`''` is a literal quote), integers
//!   and decimals (`-3`, `0.05`), `true`, `false`, `null`.
//!
//! Keywords (operators, function names, `true`/`false`/`null`) are
//! case-insensitive, field names are exact. A literal may stand on either side
//! of a comparison: `5 lt interval_1` is read as `interval_1 gt 5`. Comparing
//! two fields with each other is rejected. `not a eq 1` is read as
//! `not (a eq 1)`. Positions in error messages count characters from 1.
//!
//! Comparisons follow SQL semantics: a row whose column is NULL matches
//! neither `col eq 'x'` nor `col ne 'x'` (use `eq null` / `ne null`).

mod expr;
mod filter;
mod lexer;
mod literal;
mod order;
mod sql;
#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub use expr::{CompareOp, Expr, TextFunction};
pub use sql::{keyset_sql, order_by_sql, SqlParts, SqlValue};

/// Largest accepted `top` (and the default when `top` is absent).
pub const MAX_TOP: u32 = 100;
/// Largest accepted `skip`: PortSIP documents it as an int32.
pub const MAX_SKIP: u64 = i32::MAX as u64;
/// Longest accepted `filter`, in characters. Keeps parsing cheap and the
/// number of bind parameters well below database limits.
pub const MAX_FILTER_CHARS: usize = 4096;
/// Longest accepted `search`, in characters.
pub const MAX_SEARCH_CHARS: usize = 200;
/// Longest accepted `cursor`, in characters.
pub const MAX_CURSOR_CHARS: usize = 2048;
/// Deepest accepted nesting of parentheses and `not` in a filter. The parser
/// is recursive; the limit keeps a hostile `((((…` from exhausting the stack.
pub const MAX_FILTER_DEPTH: usize = 32;

/// The raw list parameters as they arrive in the query string.
///
/// Everything is a string so that a malformed number becomes our own
/// [`QueryError`] (naming the parameter) instead of a generic deserializer
/// failure. An empty `filter`, `search` or `orderby` is treated like an
/// absent one; an empty `skip` or `top` (`?top=`) is not a number and is
/// refused, as the documents type them as integers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListParams {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orderby: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top: Option<String>,
    /// The `cursor` of a previous answer: the page after its last row.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// A validated list query, ready for [`ListQuery::to_sql`].
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    /// The parsed and type-checked `filter`, if any.
    pub filter: Option<Expr>,
    /// The trimmed `search` text, if any (never empty).
    pub search: Option<String>,
    /// The requested sort keys, without the default tiebreaker.
    pub order: Vec<OrderKey>,
    /// Rows to skip, `0..=MAX_SKIP`.
    pub skip: u64,
    /// Rows to return, `1..=MAX_TOP`.
    pub top: u32,
    /// The trimmed `cursor` text, if any (never empty); checked against the
    /// query by the storage layer, which alone can tell whose it is.
    pub cursor: Option<String>,
}

impl Default for ListQuery {
    /// Everything, in default order, first page of [`MAX_TOP`] rows.
    fn default() -> Self {
        ListQuery {
            filter: None,
            search: None,
            order: Vec::new(),
            skip: 0,
            top: MAX_TOP,
            cursor: None,
        }
    }
}

/// One `orderby` item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderKey {
    pub field: &'static FieldSpec,
    pub direction: Direction,
}

/// Sort direction of an [`OrderKey`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    #[default]
    Asc,
    Desc,
}

impl Direction {
    /// The SQL keyword.
    pub fn sql(self) -> &'static str {
        match self {
            Direction::Asc => "ASC",
            Direction::Desc => "DESC",
        }
    }
}

/// Why a list query was rejected. Maps to HTTP 400.
///
/// `message` is a complete sentence fragment for the client and always names
/// the parameter, e.g. `top must be between 1 and 100, got 500` or
/// `expected ')' at position 17 in filter, found end of filter`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct QueryError {
    /// `"filter"`, `"search"`, `"orderby"`, `"skip"`, `"top"` or `"cursor"`.
    pub parameter: &'static str,
    pub message: String,
}

impl QueryError {
    pub fn new(parameter: &'static str, message: impl Into<String>) -> Self {
        QueryError {
            parameter,
            message: message.into(),
        }
    }
}

/// What a list endpoint allows to be filtered, searched and sorted, and how
/// API field names map to SQL. Written once per resource as a `static`.
#[derive(Debug, Clone, Copy)]
pub struct ResourceSpec {
    pub fields: &'static [FieldSpec],
    /// SQL columns searched (case-insensitive substring, any of them) by `search`.
    pub search: &'static [&'static str],
    /// SQL column used as the final sort key so that paging is stable.
    pub default_order: &'static str,
    /// Turns an API id (a [`FieldKind::Id`] literal) into the stored integer.
    pub decode_id: fn(&str) -> Option<i64>,
}

impl ResourceSpec {
    /// The field with this API name (exact match).
    pub fn field(&self, name: &str) -> Option<&'static FieldSpec> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// API names of fields usable in `filter`, comma separated, for messages.
    pub(crate) fn filterable_names(&self) -> String {
        join_names(self.fields.iter().filter(|f| f.filterable))
    }

    /// API names of fields usable in `orderby`, comma separated, for messages.
    pub(crate) fn sortable_names(&self) -> String {
        join_names(self.fields.iter().filter(|f| f.sortable))
    }
}

fn join_names<'a>(fields: impl Iterator<Item = &'a FieldSpec>) -> String {
    fields.map(|f| f.name).collect::<Vec<_>>().join(", ")
}

/// One field of a [`ResourceSpec`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    /// Name in the API (`filter`, `orderby`).
    pub name: &'static str,
    /// SQL expression it maps to. Trusted: it is spliced into the SQL text.
    pub column: &'static str,
    pub kind: FieldKind,
    pub filterable: bool,
    pub sortable: bool,
}

impl FieldSpec {
    /// A field that can be both filtered and sorted on.
    pub const fn new(name: &'static str, column: &'static str, kind: FieldKind) -> Self {
        FieldSpec {
            name,
            column,
            kind,
            filterable: true,
            sortable: true,
        }
    }

    /// The same field, but not usable in `orderby`.
    pub const fn unsortable(self) -> Self {
        FieldSpec {
            sortable: false,
            ..self
        }
    }

    /// The same field, but not usable in `filter`.
    pub const fn unfilterable(self) -> Self {
        FieldSpec {
            filterable: false,
            ..self
        }
    }
}

/// How a field is stored, which decides the literals it accepts and how they
/// are bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Text; string literals, bound as text.
    Text,
    /// 64-bit integer; whole-number literals.
    Integer,
    /// Boolean; `true` / `false`.
    Bool,
    /// Money stored as `i64` = value × 100000 (5 decimal places); number
    /// literals with at most 5 decimals, bound scaled.
    Money,
    /// Text restricted to these values; string literals, `eq`/`ne`/`in` only.
    Enum(&'static [&'static str]),
    /// `i64` unix milliseconds; RFC 3339 string literals such as
    /// `'2024-01-01T00:00:00Z'`.
    Timestamp,
    /// Opaque API id stored as `i64`; string literals decoded with
    /// [`ResourceSpec::decode_id`].
    Id,
}

impl FieldKind {
    /// How to describe the expected literal in error messages.
    pub(crate) fn expectation(&self) -> &'static str {
        match self {
            FieldKind::Text => "a quoted string",
            FieldKind::Integer => "a whole number",
            FieldKind::Bool => "true or false",
            FieldKind::Money => "a number with at most 5 decimal places",
            FieldKind::Enum(_) => "one of its quoted values",
            FieldKind::Timestamp => "a quoted RFC 3339 timestamp such as '2024-01-01T00:00:00Z'",
            FieldKind::Id => "a quoted id",
        }
    }

    /// "a whole number field" etc., for messages about the wrong field kind.
    pub(crate) fn expectation_noun(&self) -> &'static str {
        match self {
            FieldKind::Text => "a text field",
            FieldKind::Integer => "a whole number field",
            FieldKind::Bool => "a true/false field",
            FieldKind::Money => "a money field",
            FieldKind::Enum(_) => "an enum field",
            FieldKind::Timestamp => "a timestamp field",
            FieldKind::Id => "an id field",
        }
    }
}

impl ListQuery {
    /// Validates raw parameters against a resource.
    ///
    /// Checks, in order: `top`, `skip`, `orderby`, `search`, `filter`,
    /// `cursor` (only its length here); the first problem found is returned.
    pub fn parse(params: &ListParams, spec: &ResourceSpec) -> Result<ListQuery, QueryError> {
        let top = parse_top(params.top.as_deref().map(str::trim))?;
        let skip = parse_skip(params.skip.as_deref().map(str::trim))?;
        let order = match non_empty(&params.orderby) {
            Some(text) => order::parse_orderby(text, spec)?,
            None => Vec::new(),
        };
        let search = parse_search(non_empty(&params.search), spec)?;
        let filter = match non_empty(&params.filter) {
            Some(text) => Some(filter::parse_filter(text, spec)?),
            None => None,
        };
        let cursor = match non_empty(&params.cursor) {
            Some(text) if text.chars().count() > MAX_CURSOR_CHARS => {
                return Err(QueryError::new(
                    "cursor",
                    "cursor is not one this server gave out; start again from the first page",
                ))
            }
            Some(text) => Some(text.to_owned()),
            None => None,
        };
        Ok(ListQuery {
            filter,
            search,
            order,
            skip,
            top,
            cursor,
        })
    }

    /// Compiles to SQL fragments; placeholders are `$n` counted from
    /// `first_placeholder` (normally 1, or one past the caller's own binds).
    /// The next free placeholder afterwards is
    /// `first_placeholder + parts.binds.len()`.
    ///
    /// `spec` must be the one the query was parsed with (it supplies the
    /// `search` columns and the default order).
    pub fn to_sql(&self, spec: &ResourceSpec, first_placeholder: usize) -> SqlParts {
        sql::compile(self, spec, first_placeholder)
    }

    /// The sort key of a row in this query's order: the requested keys, then
    /// the resource's default order (its unique id) unless already requested.
    /// [`SqlParts::order_sql`] sorts by exactly these.
    pub fn sort_keys(&self, spec: &ResourceSpec) -> Vec<SortKey> {
        let mut keys: Vec<SortKey> = self
            .order
            .iter()
            .map(|key| SortKey {
                column: key.field.column,
                kind: key.field.kind,
                direction: key.direction,
                unique: key.field.column == spec.default_order,
            })
            .collect();
        if !keys.iter().any(|key| key.unique) {
            keys.push(SortKey {
                column: spec.default_order,
                kind: FieldKind::Integer,
                direction: Direction::Asc,
                unique: true,
            });
        }
        keys
    }
}

/// One column of a row's sort key (see [`ListQuery::sort_keys`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey {
    /// The SQL expression sorted by.
    pub column: &'static str,
    pub kind: FieldKind,
    pub direction: Direction,
    /// The resource's default order (an id: never NULL, never repeated).
    pub unique: bool,
}

impl SortKey {
    /// The same key sorted the other way: with NULLs still as the largest
    /// value, the exact reverse of its order.
    pub fn reversed(self) -> SortKey {
        SortKey {
            direction: match self.direction {
                Direction::Asc => Direction::Desc,
                Direction::Desc => Direction::Asc,
            },
            ..self
        }
    }
}

/// `Some(trimmed)` unless absent or blank.
fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn parse_top(text: Option<&str>) -> Result<u32, QueryError> {
    let Some(text) = text else {
        return Ok(MAX_TOP);
    };
    match parse_bounded(text, 1, MAX_TOP.into()) {
        Ok(n) => u32::try_from(n).map_err(|_| top_range_error(text)),
        Err(NumberError::NotANumber) => Err(QueryError::new(
            "top",
            format!("top must be a whole number between 1 and {MAX_TOP}, got '{text}'"),
        )),
        Err(NumberError::OutOfRange) => Err(top_range_error(text)),
    }
}

fn top_range_error(text: &str) -> QueryError {
    QueryError::new(
        "top",
        format!("top must be between 1 and {MAX_TOP}, got {text}"),
    )
}

fn parse_skip(text: Option<&str>) -> Result<u64, QueryError> {
    let Some(text) = text else {
        return Ok(0);
    };
    parse_bounded(text, 0, MAX_SKIP).map_err(|e| {
        let message = match e {
            NumberError::NotANumber => {
                format!("skip must be a whole number between 0 and {MAX_SKIP}, got '{text}'")
            }
            NumberError::OutOfRange => format!("skip must be between 0 and {MAX_SKIP}, got {text}"),
        };
        QueryError::new("skip", message)
    })
}

enum NumberError {
    NotANumber,
    OutOfRange,
}

/// Parses an optionally signed run of ASCII digits and checks `min..=max`.
/// Anything else (`1.5`, `ten`, `0x10`) is not a number.
fn parse_bounded(text: &str, min: u64, max: u64) -> Result<u64, NumberError> {
    let digits = text
        .strip_prefix('-')
        .or_else(|| text.strip_prefix('+'))
        .unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NumberError::NotANumber);
    }
    if text.starts_with('-') {
        // "-0" is zero; any other negative number is out of range.
        return if digits.bytes().all(|b| b == b'0') && min == 0 {
            Ok(0)
        } else {
            Err(NumberError::OutOfRange)
        };
    }
    match digits.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(NumberError::OutOfRange),
    }
}

fn parse_search(text: Option<&str>, spec: &ResourceSpec) -> Result<Option<String>, QueryError> {
    let Some(text) = text else {
        return Ok(None);
    };
    if spec.search.is_empty() {
        return Err(QueryError::new(
            "search",
            "search is not supported for this list; use filter instead",
        ));
    }
    if text.chars().count() > MAX_SEARCH_CHARS {
        return Err(QueryError::new(
            "search",
            format!("search must be at most {MAX_SEARCH_CHARS} characters"),
        ));
    }
    Ok(Some(text.to_owned()))
}
