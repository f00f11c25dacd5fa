//! SQL text that differs by backend: the placeholders of many-parameter
//! statements, and how rows are split into statements.
//!
//! sqlx-sqlite binds a numbered parameter (`$n`) by asking SQLite its name,
//! which scans every parameter of the statement, so binding a statement
//! costs the square of its size; anonymous `?` it binds in order, at no such
//! cost. Statements with many parameters therefore use `?` on SQLite and
//! `$n` on PostgreSQL, bound in the order they appear.

use crate::db::Backend;

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

/// What makes a SELECT lock the rows it reads until the transaction ends:
/// `FOR UPDATE` on PostgreSQL; nothing on SQLite, where a writing
/// transaction (`BEGIN IMMEDIATE`) already keeps every other writer out.
pub(crate) fn for_update(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR UPDATE",
    }
}

/// The `n`th parameter: `$n` on PostgreSQL, `?` on SQLite (for statements
/// whose other parameters are anonymous).
pub(crate) fn param(backend: Backend, n: usize) -> String {
    list(backend, n, 1)
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
        assert_eq!(param(Backend::Postgres, 1), "$1");
    }
}
