//! A rate table's rows read through each backend's own driver: the one read
//! of a million rows, where `Any`'s conversion of each row was most of a
//! build's time (5.3 s of 6.4 s).
//!
//! - SQLite: rusqlite, on the same SQLite library as sqlx's, reads each value
//!   in place; sqlx's own SQLite driver copies every value it reads (a
//!   malloc under SQLite's allocator lock), 2.5 µs a row of thirteen columns.
//! - PostgreSQL: `COPY (…) TO STDOUT` in the binary format through sqlx's
//!   driver, parsed here: a row is a few length-prefixed big-endian fields.

use std::path::Path;
use std::time::Duration;

use futures::TryStreamExt;

use crate::error::{Error, Result};
use crate::resolver::RateRow;

/// Fields of a [`RateRow`].
const FIELDS: usize = 13;

/// The rows of `sql` (with `binds` for `$1`, `$2`, …) read from the SQLite
/// file at `path` on a connection of this read's own (a write-ahead log's
/// reader: it sees the last commit and holds no writer up).
pub(super) fn sqlite_rate_rows<T>(
    path: &Path,
    sql: &str,
    binds: &[i64],
    map: fn(RateRow) -> T,
) -> Result<Vec<T>> {
    use rusqlite::OpenFlags;
    let sqlite = |e: rusqlite::Error| Error::Internal(format!("reading rates: {e}"));
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sqlite)?;
    conn.busy_timeout(Duration::from_secs(30)).map_err(sqlite)?;
    let mut statement = conn.prepare(sql).map_err(sqlite)?;
    for (i, value) in binds.iter().enumerate() {
        if let Some(index) = statement
            .parameter_index(&format!("${}", i + 1))
            .map_err(sqlite)?
        {
            statement.raw_bind_parameter(index, value).map_err(sqlite)?;
        }
    }
    let mut rows = statement.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(sqlite)? {
        out.push(map((
            row.get(0).map_err(sqlite)?,
            row.get(1).map_err(sqlite)?,
            row.get(2).map_err(sqlite)?,
            row.get(3).map_err(sqlite)?,
            row.get(4).map_err(sqlite)?,
            row.get(5).map_err(sqlite)?,
            row.get(6).map_err(sqlite)?,
            row.get(7).map_err(sqlite)?,
            row.get(8).map_err(sqlite)?,
            row.get(9).map_err(sqlite)?,
            row.get(10).map_err(sqlite)?,
            row.get(11).map_err(sqlite)?,
            row.get(12).map_err(sqlite)?,
        )));
    }
    Ok(out)
}

/// The rows of `sql` (with the integers `binds` for `$1`, `$2`, …, written
/// into the statement: `COPY` takes no parameters) read from PostgreSQL.
pub(super) async fn postgres_rate_rows<T>(
    pool: &sqlx::PgPool,
    sql: &str,
    binds: &[i64],
    map: fn(RateRow) -> T,
) -> Result<Vec<T>> {
    use sqlx::postgres::PgPoolCopyExt;
    let mut sql = sql.to_string();
    // Highest first, so that `$1` never eats the start of `$10`.
    for (i, value) in binds.iter().enumerate().rev() {
        sql = sql.replace(&format!("${}", i + 1), &value.to_string());
    }
    let copy = format!("COPY ({sql}) TO STDOUT (FORMAT binary)");
    let mut chunks = pool.copy_out_raw(&copy).await?;
    let mut rows = CopyRows::default();
    let mut out = Vec::new();
    while let Some(chunk) = chunks.try_next().await? {
        rows.push(&chunk, map, &mut out)?;
    }
    if !rows.ended {
        return Err(malformed("the copy ended early"));
    }
    Ok(out)
}

fn malformed(what: &str) -> Error {
    Error::Internal(format!("reading rates: {what}"))
}

/// Rows of PostgreSQL's binary `COPY` format, from chunks however they are
/// cut.
#[derive(Default)]
struct CopyRows {
    pending: Vec<u8>,
    header_read: bool,
    ended: bool,
}

/// The start of the format: its signature, flags and extension length.
const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";
const HEADER: usize = SIGNATURE.len() + 8;

fn be_i32(bytes: &[u8]) -> Option<i32> {
    Some(i32::from_be_bytes(bytes.get(..4)?.try_into().ok()?))
}

/// What the bytes at hand begin with.
enum Tuple {
    /// A row, and the bytes it took.
    Row(RateRow, usize),
    /// The trailer: no more rows.
    End,
    /// Not all of a row yet.
    Incomplete,
}

impl CopyRows {
    fn push<T>(&mut self, chunk: &[u8], map: fn(RateRow) -> T, out: &mut Vec<T>) -> Result<()> {
        self.pending.extend_from_slice(chunk);
        let mut at = 0;
        if !self.header_read {
            if self.pending.len() < HEADER {
                return Ok(());
            }
            if !self.pending.starts_with(SIGNATURE) {
                return Err(malformed("not a binary copy"));
            }
            let extension = be_i32(&self.pending[SIGNATURE.len() + 4..])
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| malformed("a bad header"))?;
            if self.pending.len() < HEADER + extension {
                return Ok(());
            }
            at = HEADER + extension;
            self.header_read = true;
        }
        while !self.ended {
            match tuple(&self.pending[at..])? {
                Tuple::Row(row, used) => {
                    out.push(map(row));
                    at += used;
                }
                Tuple::End => {
                    self.ended = true;
                    at = self.pending.len();
                }
                Tuple::Incomplete => break,
            }
        }
        self.pending.drain(..at);
        Ok(())
    }
}

/// The tuple `bytes` begin with: [`FIELDS`] fields, each an `int8` but the
/// second (the prefix, `text`) and the fourth (`int8` or NULL).
fn tuple(bytes: &[u8]) -> Result<Tuple> {
    let Some(count) = bytes.get(..2) else {
        return Ok(Tuple::Incomplete);
    };
    let count = i16::from_be_bytes([count[0], count[1]]);
    if count == -1 {
        return Ok(Tuple::End);
    }
    if usize::try_from(count).ok() != Some(FIELDS) {
        return Err(malformed("a row of another shape"));
    }
    let mut at = 2;
    let mut fields: [Option<&[u8]>; FIELDS] = [None; FIELDS];
    for field in &mut fields {
        let Some(length) = bytes.get(at..).and_then(be_i32) else {
            return Ok(Tuple::Incomplete);
        };
        at += 4;
        // A negative length is NULL.
        let Ok(length) = usize::try_from(length) else {
            continue;
        };
        let Some(data) = bytes.get(at..at + length) else {
            return Ok(Tuple::Incomplete);
        };
        *field = Some(data);
        at += length;
    }
    let optional = |i: usize| -> Result<Option<i64>> {
        fields[i]
            .map(|data| {
                <[u8; 8]>::try_from(data)
                    .map(i64::from_be_bytes)
                    .map_err(|_| malformed("an integer of another size"))
            })
            .transpose()
    };
    let int = |i: usize| optional(i)?.ok_or_else(|| malformed("a missing value"));
    let prefix = fields[1].ok_or_else(|| malformed("a missing prefix"))?;
    let prefix =
        String::from_utf8(prefix.to_vec()).map_err(|_| malformed("a prefix that is not UTF-8"))?;
    let row = (
        int(0)?,
        prefix,
        int(2)?,
        optional(3)?,
        int(4)?,
        int(5)?,
        int(6)?,
        int(7)?,
        int(8)?,
        int(9)?,
        int(10)?,
        int(11)?,
        int(12)?,
    );
    Ok(Tuple::Row(row, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(out: &mut Vec<u8>, data: Option<&[u8]>) {
        match data {
            Some(d) => {
                out.extend_from_slice(&(d.len() as i32).to_be_bytes());
                out.extend_from_slice(d);
            }
            None => out.extend_from_slice(&(-1i32).to_be_bytes()),
        }
    }

    fn copy(rows: &[(i64, &str, Option<i64>)]) -> Vec<u8> {
        let mut out = SIGNATURE.to_vec();
        out.extend_from_slice(&0i32.to_be_bytes());
        out.extend_from_slice(&4i32.to_be_bytes());
        out.extend_from_slice(b"skip");
        for &(id, prefix, expiration) in rows {
            out.extend_from_slice(&(FIELDS as i16).to_be_bytes());
            field(&mut out, Some(&id.to_be_bytes()));
            field(&mut out, Some(prefix.as_bytes()));
            field(&mut out, Some(&7i64.to_be_bytes()));
            field(
                &mut out,
                expiration.map(i64::to_be_bytes).as_ref().map(|b| &b[..]),
            );
            for k in 4..FIELDS {
                field(&mut out, Some(&(k as i64 * 1000).to_be_bytes()));
            }
        }
        out.extend_from_slice(&(-1i16).to_be_bytes());
        out
    }

    #[test]
    fn rows_are_read_however_the_chunks_are_cut() {
        let bytes = copy(&[(1, "44", None), (2, "+4420", Some(99)), (-3, "é*#", None)]);
        for size in [1, 2, 3, 7, 64, bytes.len()] {
            let mut rows = CopyRows::default();
            let mut out = Vec::new();
            for chunk in bytes.chunks(size) {
                rows.push(chunk, |r| r, &mut out).expect("rows");
            }
            assert!(rows.ended);
            assert_eq!(out.len(), 3);
            assert_eq!(
                (out[1].0, out[1].1.as_str(), out[1].3),
                (2, "+4420", Some(99))
            );
            assert_eq!((out[2].0, out[2].1.as_str(), out[2].3), (-3, "é*#", None));
            assert_eq!((out[0].2, out[0].4, out[0].12), (7, 4000, 12000));
        }
    }

    #[test]
    fn malformed_copies_are_errors_not_panics() {
        let good = copy(&[(1, "44", None)]);
        let mut not_copy = good.clone();
        not_copy[0] = b'X';
        let mut short_int = good.clone();
        // The id's length says 4 bytes: an int8 of another size.
        short_int[HEADER + 4 + 2..HEADER + 4 + 6].copy_from_slice(&4i32.to_be_bytes());
        let mut bad_count = good.clone();
        bad_count[HEADER + 4..HEADER + 6].copy_from_slice(&3i16.to_be_bytes());
        for bytes in [not_copy, short_int, bad_count] {
            let mut rows = CopyRows::default();
            let result = rows.push(&bytes, |r| r, &mut Vec::new());
            assert!(result.is_err() || !rows.ended);
        }
        // Cut short: never ended, no row invented.
        let mut rows = CopyRows::default();
        let mut out = Vec::new();
        rows.push(&good[..good.len() - 5], |r| r, &mut out)
            .expect("so far");
        assert!(!rows.ended);
        assert!(out.is_empty());
    }
}
