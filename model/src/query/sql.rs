//! Compiling a [`ListQuery`] to SQL fragments.
//!
//! The output must run unchanged on SQLite and PostgreSQL through sqlx's Any
//! driver, hence:
//!
//! * placeholders are `$n`, numbered in the order they appear in the text
//!   and each used exactly once, so `binds[i]` is always `$(first + i)`;
//! * literals are always bound, never spliced into the SQL; only the trusted
//!   column expressions of the [`ResourceSpec`] are;
//! * case-insensitive matching is `LOWER(col) LIKE $n ESCAPE '\'` with a
//!   lowercased pattern, because `ILIKE` is PostgreSQL-only and SQLite's
//!   `LIKE` case rules differ. `LOWER` in SQLite only folds ASCII letters, so
//!   on SQLite non-ASCII text matches case-sensitively.

use super::{Direction, Expr, ListQuery, ResourceSpec, SortKey, TextFunction};

/// A value to bind to a placeholder, in its stored representation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SqlValue {
    /// Integers, money units (value × 100000), timestamps (unix ms), ids.
    Int(i64),
    /// Text, enum values and `LIKE` patterns.
    Text(String),
    Bool(bool),
}

/// SQL fragments of a list query, to be placed into
/// `SELECT … FROM … [WHERE {where_sql}] ORDER BY {order_sql} LIMIT … OFFSET …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlParts {
    /// Empty when there are no conditions; otherwise a parenthesised boolean
    /// expression without the `WHERE` keyword, so it can be `AND`ed with the
    /// caller's own conditions.
    pub where_sql: String,
    /// `col1 ASC, col2 DESC, <default_order> ASC`; the default order is
    /// always last (unless already requested) so that paging is stable.
    pub order_sql: String,
    /// Values for `$first`, `$first+1`, … in order.
    pub binds: Vec<SqlValue>,
}

pub(crate) fn compile(
    query: &ListQuery,
    spec: &ResourceSpec,
    first_placeholder: usize,
) -> SqlParts {
    let mut writer = Writer {
        sql: String::new(),
        binds: Vec::new(),
        next: first_placeholder,
    };

    // Top-level conjuncts: the filter's own `and` items (so they are not
    // wrapped twice), then the search group; each with whether it is
    // already one parenthesised group.
    let mut conjuncts: Vec<(String, bool)> = Vec::new();
    let filter_items: &[Expr] = match &query.filter {
        Some(Expr::And(items)) => items,
        Some(expr) => std::slice::from_ref(expr),
        None => &[],
    };
    for item in filter_items {
        writer.expr(item);
        conjuncts.push((writer.take(), matches!(item, Expr::Or(_) | Expr::And(_))));
    }
    if let Some(text) = &query.search {
        // (`ListQuery::parse` rejects `search` when there are no columns.)
        writer.search(spec.search, text);
        conjuncts.push((writer.take(), spec.search.len() != 1));
    }

    let where_sql = match conjuncts.as_slice() {
        [] => String::new(),
        [(only, true)] => only.clone(),
        _ => {
            let sql: Vec<&str> = conjuncts.iter().map(|(sql, _)| sql.as_str()).collect();
            format!("({})", sql.join(" AND "))
        }
    };

    SqlParts {
        where_sql,
        order_sql: order_sql(query, spec),
        binds: writer.binds,
    }
}

fn order_sql(query: &ListQuery, spec: &ResourceSpec) -> String {
    order_by_sql(&query.sort_keys(spec))
}

/// The ORDER BY text of sort keys (see [`ListQuery::sort_keys`]). NULLs sort
/// as if larger than any value (last ascending, first descending) on both
/// databases: PostgreSQL's default, spelled out because SQLite's is the
/// opposite.
pub fn order_by_sql(keys: &[SortKey]) -> String {
    keys.iter()
        .map(|key| match (key.unique, key.direction) {
            (true, direction) => format!("{} {}", key.column, direction.sql()),
            (false, Direction::Asc) => format!("{} ASC NULLS LAST", key.column),
            (false, Direction::Desc) => format!("{} DESC NULLS FIRST", key.column),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The condition "the row sorts after the row whose sort key is `values`"
/// for the `keys` of [`ListQuery::sort_keys`] (the keyset of a cursor), with
/// NULLs ordered as in the ORDER BY. Placeholders are `$first…` in order;
/// answers the text and its binds. `values` has one entry per key (`None`
/// for NULL); missing entries are taken as NULL.
pub fn keyset_sql(
    keys: &[SortKey],
    values: &[Option<SqlValue>],
    first_placeholder: usize,
) -> (String, Vec<SqlValue>) {
    let mut writer = Writer {
        sql: String::new(),
        binds: Vec::new(),
        next: first_placeholder,
    };
    if keys.is_empty() {
        return ("(1 = 1)".into(), Vec::new());
    }
    writer.keyset(keys, values);
    (writer.sql, writer.binds)
}

struct Writer {
    sql: String,
    binds: Vec<SqlValue>,
    /// Number of the next placeholder.
    next: usize,
}

impl Writer {
    fn take(&mut self) -> String {
        std::mem::take(&mut self.sql)
    }

    fn push(&mut self, sql: &str) {
        self.sql.push_str(sql);
    }

    fn bind(&mut self, value: SqlValue) {
        self.sql.push('$');
        self.sql.push_str(&self.next.to_string());
        self.next += 1;
        self.binds.push(value);
    }

    /// Writes an expression. `And`/`Or` come out parenthesised, everything
    /// else is a single predicate, so any output can be an operand of
    /// `AND`/`OR` as is.
    fn expr(&mut self, expr: &Expr) {
        match expr {
            Expr::And(items) => self.connective(items, " AND "),
            Expr::Or(items) => self.connective(items, " OR "),
            Expr::Not(inner) => {
                self.push("NOT ");
                if matches!(**inner, Expr::And(_) | Expr::Or(_)) {
                    self.expr(inner);
                } else {
                    self.push("(");
                    self.expr(inner);
                    self.push(")");
                }
            }
            Expr::Compare { field, op, value } => {
                self.push(field.column);
                self.push(" ");
                self.push(op.sql());
                self.push(" ");
                self.bind(value.clone());
            }
            Expr::IsNull { field, negated } => {
                self.push(field.column);
                self.push(if *negated { " IS NOT NULL" } else { " IS NULL" });
            }
            Expr::Text {
                field,
                function,
                text,
            } => self.like(field.column, like_pattern(*function, text)),
            Expr::In { values, .. } if values.is_empty() => {
                // Never produced by the parser; `IN ()` is not valid SQL.
                self.push("1 = 0");
            }
            Expr::In { field, values } => {
                self.push(field.column);
                self.push(" IN (");
                for (i, value) in values.iter().enumerate() {
                    if i > 0 {
                        self.push(", ");
                    }
                    self.bind(value.clone());
                }
                self.push(")");
            }
        }
    }

    fn connective(&mut self, items: &[Expr], separator: &str) {
        // The parser never builds an empty list; a hand-built one means
        // "all of nothing" (true) or "any of nothing" (false).
        if items.is_empty() {
            self.push(if separator == " AND " {
                "(1 = 1)"
            } else {
                "(1 = 0)"
            });
            return;
        }
        self.push("(");
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.push(separator);
            }
            self.expr(item);
        }
        self.push(")");
    }

    fn like(&mut self, column: &str, pattern: String) {
        self.push("LOWER(");
        self.push(column);
        self.push(") LIKE ");
        self.bind(SqlValue::Text(pattern));
        self.push(" ESCAPE '\\'");
    }

    /// Rows after `values` in the order of `keys` (not empty): the first key
    /// sorts after, or is equal and the rest sort after.
    fn keyset(&mut self, keys: &[SortKey], values: &[Option<SqlValue>]) {
        let Some((key, rest)) = keys.split_first() else {
            self.push("1 = 0");
            return;
        };
        let value = values.first().cloned().flatten();
        let after_nothing = value.is_none() && key.direction == Direction::Asc;
        self.push("(");
        if !after_nothing {
            match (&value, key.direction) {
                (Some(v), Direction::Asc) if key.unique => {
                    self.push(key.column);
                    self.push(" > ");
                    self.bind(v.clone());
                }
                (Some(v), Direction::Asc) => {
                    self.push("(");
                    self.push(key.column);
                    self.push(" > ");
                    self.bind(v.clone());
                    self.push(" OR ");
                    self.push(key.column);
                    self.push(" IS NULL)");
                }
                (Some(v), Direction::Desc) => {
                    self.push(key.column);
                    self.push(" < ");
                    self.bind(v.clone());
                }
                (None, _) => {
                    self.push(key.column);
                    self.push(" IS NOT NULL");
                }
            }
        }
        if !rest.is_empty() {
            if !after_nothing {
                self.push(" OR ");
            }
            self.push("(");
            match &value {
                Some(v) => {
                    self.push(key.column);
                    self.push(" = ");
                    self.bind(v.clone());
                }
                None => {
                    self.push(key.column);
                    self.push(" IS NULL");
                }
            }
            self.push(" AND ");
            self.keyset(rest, values.get(1..).unwrap_or(&[]));
            self.push(")");
        } else if after_nothing {
            self.push("1 = 0");
        }
        self.push(")");
    }

    /// `search`: any of the columns contains the text.
    fn search(&mut self, columns: &[&str], text: &str) {
        if columns.is_empty() {
            self.push("(1 = 0)");
            return;
        }
        let grouped = columns.len() > 1;
        if grouped {
            self.push("(");
        }
        for (i, column) in columns.iter().enumerate() {
            if i > 0 {
                self.push(" OR ");
            }
            self.like(column, like_pattern(TextFunction::Contains, text));
        }
        if grouped {
            self.push(")");
        }
    }
}

/// The lowercased `LIKE` pattern for a text function, with the text's `%`,
/// `_` and `\` escaped so they match themselves (`ESCAPE '\'`).
pub(crate) fn like_pattern(function: TextFunction, text: &str) -> String {
    let escaped = escape_like(&text.to_lowercase());
    match function {
        TextFunction::StartsWith => format!("{escaped}%"),
        TextFunction::EndsWith => format!("%{escaped}"),
        TextFunction::Contains => format!("%{escaped}%"),
    }
}

fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
