//! SQL text that differs by backend: the placeholders of many-parameter
//! statements, and how rows are split into statements.
//!
//! A statement with a variable number of parameters is built here: a
//! multi-row INSERT from its column list ([`Insert`]), a condition list
//! from [`Params`] (each placeholder taken in the order it is written), and
//! its binds counted against the placeholders ([`Binds`]), so that no
//! width or parameter number is kept by hand next to the SQL.
//!
//! sqlx-sqlite binds a numbered parameter (`$n`) by asking SQLite its name,
//! which scans every parameter of the statement, so binding a statement
//! costs the square of its size; anonymous `?` it binds in order, at no such
//! cost. Statements with many parameters therefore use `?` on SQLite and
//! `$n` on PostgreSQL, bound in the order they appear.

use sqlx::any::{Any, AnyArguments};
use sqlx::query::Query;

use crate::db::Backend;
use crate::error::{Error, Result};

/// A multi-row INSERT into `table`: one row is a value for each of
/// `columns`, so its width is theirs.
pub(crate) struct Insert {
    pub table: &'static str,
    pub columns: &'static [&'static str],
}

impl Insert {
    /// The parameters of one row.
    pub const fn width(&self) -> usize {
        self.columns.len()
    }

    /// `INSERT INTO table (columns) VALUES (…), …` for `rows` rows, then `tail`
    /// (an `ON CONFLICT` or `RETURNING` clause, or nothing).
    pub fn sql(&self, backend: Backend, rows: usize, tail: &str) -> String {
        let values = placeholders(backend, rows, self.width());
        let mut sql = String::with_capacity(values.len() + tail.len() + 64 + self.width() * 16);
        sql.push_str("INSERT INTO ");
        sql.push_str(self.table);
        sql.push_str(" (");
        for (i, column) in self.columns.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(column);
        }
        sql.push_str(") VALUES ");
        sql.push_str(&values);
        sql.push_str(tail);
        sql
    }

    /// On PostgreSQL, `INSERT INTO table (columns) SELECT columns FROM` the
    /// rows of a JSON array bound at `$param`, then `tail`: one object per
    /// row keyed by column ([`json_rows`]), each value read as its
    /// column's type. One statement text for any number of rows, so it is
    /// prepared once, and one parameter to send instead of one per value.
    pub fn json_sql(&self, param: usize, tail: &str) -> String {
        let columns = self.columns.join(", ");
        format!(
            "INSERT INTO {table} ({columns}) SELECT {columns} FROM \
             json_populate_recordset(NULL::{table}, CAST(${param} AS JSON)){tail}",
            table = self.table
        )
    }

    /// `items` split into this INSERT's statements ([`chunked`]).
    pub fn chunks<'a, T>(&self, items: &'a [T]) -> impl Iterator<Item = &'a [T]> {
        chunked(items, self.width())
    }

    /// A statement of `rows` rows, its binds counted against its width.
    pub fn binds<'q>(&self, sql: &'q str, rows: usize) -> Binds<'q> {
        Binds::new(sql, rows * self.width())
    }
}

/// The placeholders of one statement, numbered in the order they are
/// written: `$1, $2, …` on PostgreSQL, `?` on SQLite (bound in that order).
pub(crate) struct Params {
    backend: Backend,
    count: usize,
}

impl Params {
    pub fn new(backend: Backend) -> Params {
        Params { backend, count: 0 }
    }

    /// The next placeholder.
    pub fn next(&mut self) -> String {
        self.list(1)
    }

    /// The next `count` placeholders, comma-separated (for `IN (…)`).
    pub fn list(&mut self, count: usize) -> String {
        let sql = list(self.backend, self.count + 1, count);
        self.count += count;
        sql
    }

    /// How many placeholders were written: the binds the statement takes.
    pub fn count(&self) -> usize {
        self.count
    }
}

/// A query whose binds are counted: [`Binds::query`] refuses it unless it
/// was given exactly the values its placeholders take.
pub(crate) struct Binds<'q> {
    query: Query<'q, Any, AnyArguments<'q>>,
    bound: usize,
    expected: usize,
}

impl<'q> Binds<'q> {
    /// `sql`, with `expected` placeholders.
    pub fn new(sql: &'q str, expected: usize) -> Binds<'q> {
        Binds {
            query: sqlx::query(sql),
            bound: 0,
            expected,
        }
    }

    pub fn bind<T>(mut self, value: T) -> Binds<'q>
    where
        T: 'q + sqlx::Encode<'q, Any> + sqlx::Type<Any>,
    {
        self.query = self.query.bind(value);
        self.bound += 1;
        self
    }

    /// The query, once every placeholder has its value.
    pub fn query(self) -> Result<Query<'q, Any, AnyArguments<'q>>> {
        if self.bound != self.expected {
            return Err(Error::Internal(format!(
                "a statement with {} parameters was given {} values",
                self.expected, self.bound
            )));
        }
        Ok(self.query)
    }
}

/// The VALUES of a multi-row INSERT: `rows` tuples of `width` parameters,
/// `($1, …, $width), ($width+1, …)` on PostgreSQL, `(?, …), (?, …)` on SQLite.
pub(crate) fn placeholders(backend: Backend, rows: usize, width: usize) -> String {
    let mut sql = String::with_capacity(rows * (width * 6 + 4));
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        sql.push_str(&list(backend, 1 + row * width, width));
        sql.push(')');
    }
    sql
}

/// Parameters per multi-row INSERT, well under SQLite's limit (32,766) and
/// PostgreSQL's (65,535). With binding linear in the statement's size, a
/// batch of 1,000 CDRs took 24 ms on SQLite at 8 rows a statement, and 15 to
/// 18 ms at anything from 4,000 to 32,000 parameters a statement on either
/// backend; the smaller of those keeps each cached statement small.
const PARAMS_PER_INSERT: usize = 8_000;

/// `rows` split into the statements of a multi-row INSERT of `width`
/// columns: as many full ones as fit in [`PARAMS_PER_INSERT`], then the rest
/// in falling powers of two. Each connection prepares and caches every
/// statement text it runs, so a few fixed sizes serve batches of any size
/// instead of a new text (and a new cached statement) per remainder.
pub(crate) fn insert_chunks(rows: usize, width: usize) -> impl Iterator<Item = usize> {
    let full = (PARAMS_PER_INSERT / width.max(1)).max(1);
    let rest = rows % full;
    std::iter::repeat_n(full, rows / full).chain(
        (0..usize::BITS)
            .rev()
            .map(|bit| 1usize << bit)
            .filter(move |size| rest & size != 0),
    )
}

/// `items` in the slices [`insert_chunks`] sizes.
pub(crate) fn chunked<T>(items: &[T], width: usize) -> impl Iterator<Item = &[T]> {
    let mut start = 0;
    insert_chunks(items.len(), width).map(move |size| {
        let chunk = &items[start..start + size];
        start += size;
        chunk
    })
}

/// A list of `count` parameters numbered from `first` (`$2, $3` on
/// PostgreSQL, `?, ?` on SQLite), for `IN (…)` after `first - 1` others.
pub(crate) fn list(backend: Backend, first: usize, count: usize) -> String {
    let mut sql = String::with_capacity(count * 6);
    for n in first..first + count {
        if n > first {
            sql.push_str(", ");
        }
        match backend {
            Backend::Sqlite => sql.push('?'),
            Backend::Postgres => {
                sql.push('$');
                sql.push_str(&n.to_string());
            }
        }
    }
    sql
}

/// `rows` as one JSON array, the parameter of a statement reading it with
/// `json_to_recordset` or [`Insert::json_sql`] on PostgreSQL.
pub(crate) fn json_rows<T: serde::Serialize>(rows: &[T]) -> Result<String> {
    serde_json::to_string(rows).map_err(Error::internal)
}

/// `ids` as the text of a PostgreSQL array (`{1,2,3}`), bound as one
/// parameter and read with `CAST($n AS BIGINT[])`.
pub(crate) fn bigint_array(ids: &[i64]) -> String {
    let mut text = String::with_capacity(ids.len() * 8 + 2);
    text.push('{');
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&id.to_string());
    }
    text.push('}');
    text
}

/// What makes a SELECT lock the rows it reads until the transaction ends:
/// `FOR UPDATE` on PostgreSQL; nothing on SQLite, where a writing
/// transaction (`BEGIN IMMEDIATE`) already keeps every other writer out.
pub(crate) fn for_update(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR UPDATE",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_split_into_full_statements_then_powers_of_two() {
        let sizes = |rows, width| insert_chunks(rows, width).collect::<Vec<_>>();
        assert_eq!(sizes(0, 32), Vec::<usize>::new());
        assert_eq!(sizes(1000, 32), [250, 250, 250, 250]);
        assert_eq!(sizes(1000, 9), [888, 64, 32, 16]);
        assert_eq!(sizes(1203, 32), [250, 250, 250, 250, 128, 64, 8, 2, 1]);
        assert_eq!(sizes(3, 10_000), [1, 1, 1]);
        for rows in 0..2_000 {
            assert_eq!(sizes(rows, 32).iter().sum::<usize>(), rows);
        }
    }

    #[test]
    fn chunks_cover_the_items_in_order() {
        let items: Vec<usize> = (0..1203).collect();
        let joined: Vec<usize> = chunked(&items, 32).flatten().copied().collect();
        assert_eq!(joined, items);
    }

    #[test]
    fn placeholders_are_numbered_on_postgres_and_anonymous_on_sqlite() {
        assert_eq!(placeholders(Backend::Postgres, 2, 2), "($1, $2), ($3, $4)");
        assert_eq!(placeholders(Backend::Sqlite, 2, 2), "(?, ?), (?, ?)");
        assert_eq!(list(Backend::Postgres, 2, 3), "$2, $3, $4");
        assert_eq!(list(Backend::Sqlite, 2, 3), "?, ?, ?");
    }

    #[test]
    fn params_are_numbered_in_the_order_they_are_written() {
        let mut p = Params::new(Backend::Postgres);
        assert_eq!(p.next(), "$1");
        assert_eq!(p.list(3), "$2, $3, $4");
        assert_eq!(p.next(), "$5");
        assert_eq!(p.count(), 5);
        let mut p = Params::new(Backend::Sqlite);
        assert_eq!(format!("{} {}", p.next(), p.list(2)), "? ?, ?");
        assert_eq!(p.count(), 3);
    }

    #[test]
    fn postgres_reads_many_rows_from_one_parameter() {
        let insert = Insert {
            table: "t",
            columns: &["a", "b"],
        };
        assert_eq!(
            insert.json_sql(2, " ON CONFLICT DO NOTHING"),
            "INSERT INTO t (a, b) SELECT a, b FROM json_populate_recordset(NULL::t, CAST($2 AS JSON)) ON CONFLICT DO NOTHING"
        );
        assert_eq!(bigint_array(&[]), "{}");
        assert_eq!(bigint_array(&[1, -2, 30]), "{1,-2,30}");
    }

    #[test]
    fn an_insert_takes_its_width_from_its_columns() {
        let insert = Insert {
            table: "t",
            columns: &["a", "b"],
        };
        assert_eq!(insert.width(), 2);
        assert_eq!(
            insert.sql(Backend::Postgres, 2, " RETURNING a"),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4) RETURNING a"
        );
        assert_eq!(
            insert.sql(Backend::Sqlite, 1, ""),
            "INSERT INTO t (a, b) VALUES (?, ?)"
        );
    }

    #[test]
    fn a_statement_refuses_a_wrong_number_of_binds() {
        let sql = "SELECT ?, ?";
        assert!(Binds::new(sql, 2).bind(1i64).query().is_err());
        assert!(Binds::new(sql, 2).bind(1i64).bind(2i64).query().is_ok());
        assert!(Binds::new(sql, 1).bind(1i64).bind(2i64).query().is_err());
    }
}
