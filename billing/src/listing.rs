//! One page of a list: the `{count, items, cursor}` every list endpoint answers.
//!
//! The count and the page come from the same FROM and WHERE text with the same
//! binds, so they can never disagree about what matches.
//!
//! A page that is followed by more rows carries a `cursor`: the sort key of
//! its last row (the requested `orderby` keys, then the id) and a check of
//! the query it belongs to, as unpadded URL-safe base64. Given back, it
//! selects the rows after that one by their key (keyset paging), which costs
//! the same on the millionth row as on the first, where `skip` has to walk
//! past every skipped row.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use model::query::{
    keyset_sql, order_by_sql, FieldKind, ListQuery, ResourceSpec, SortKey, SqlValue,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, Row};

use crate::db::{Backend, Db};
use crate::error::{Error, Result};

/// A page of results, how many match in all, and where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    pub count: i64,
    pub items: Vec<T>,
    /// Give back as `cursor` for the page after this one; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Give back as `cursor` for the page before this one; absent on the
    /// first page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_cursor: Option<String>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            count: self.count,
            items: self.items.into_iter().map(f).collect(),
            cursor: self.cursor,
            previous_cursor: self.previous_cursor,
        }
    }
}

/// What to list: `SELECT {columns} FROM {from} WHERE {scope}` before the
/// caller's filter; `scope` uses placeholders `$1..$n` for `scope_binds`.
pub(crate) struct Listing<'a> {
    pub columns: &'a str,
    pub from: &'a str,
    pub scope: &'a str,
    pub scope_binds: Vec<SqlValue>,
    pub spec: &'a ResourceSpec,
    /// On SQLite, an FTS5 trigram table over the spec's `search` columns
    /// whose rowid is the spec's `default_order`: it narrows a `search` to
    /// the rows holding the text before the exact match is checked.
    pub sqlite_search: Option<&'a str>,
    /// A query answering one `version` (BIGINT) that changes in the same
    /// transaction as any change of the listed rows or of what their fields
    /// read (`$1..` bound to the binds given): counts are then remembered
    /// per version instead of counted again for every page. `None` (or no
    /// row): always counted.
    pub version: Option<(&'a str, Vec<SqlValue>)>,
}

/// Counts remembered by the text and binds of the count, with the version of
/// the rows they counted.
#[derive(Debug, Default)]
pub(crate) struct CountCache {
    counts: std::sync::Mutex<std::collections::HashMap<String, (i64, i64)>>,
}

/// Counts remembered at most; beyond, all are forgotten and remembered anew.
const REMEMBERED_COUNTS: usize = 1024;

impl CountCache {
    fn get(&self, key: &str, version: i64) -> Option<i64> {
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        match counts.get(key) {
            Some((v, count)) if *v == version => Some(*count),
            _ => None,
        }
    }

    fn put(&self, key: String, version: i64, count: i64) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if counts.len() >= REMEMBERED_COUNTS && !counts.contains_key(&key) {
            counts.clear();
        }
        counts.insert(key, (version, count));
    }
}

pub(crate) fn bind_all<'q>(
    mut query: Query<'q, Any, AnyArguments<'q>>,
    values: &'q [SqlValue],
) -> Query<'q, Any, AnyArguments<'q>> {
    for value in values {
        query = match value {
            SqlValue::Int(i) => query.bind(*i),
            SqlValue::Text(s) => query.bind(s.as_str()),
            SqlValue::Bool(b) => query.bind(*b),
        };
    }
    query
}

/// From this `skip` on, the page's ids are found first and only their rows
/// read in full, so the skipped rows are walked in the index only.
const DEFERRED_SKIP: u64 = 1000;

impl Db {
    pub(crate) async fn page<T>(
        &self,
        listing: Listing<'_>,
        query: &ListQuery,
        map: impl Fn(&AnyRow) -> Result<T>,
    ) -> Result<Page<T>> {
        let spec = listing.spec;
        let keys = query.sort_keys(spec);
        let parts = query.to_sql(spec, listing.scope_binds.len() + 1);
        let mut conditions = vec![listing.scope.to_string()];
        if !parts.where_sql.is_empty() {
            conditions.push(parts.where_sql.clone());
        }
        let mut binds = listing.scope_binds.clone();
        binds.extend(parts.binds);
        let check = QueryCheck::new(&listing, &conditions, &binds, &parts.order_sql);

        if let (Backend::Sqlite, Some(table), Some(text)) = (
            self.backend(),
            listing.sqlite_search,
            query.search.as_deref(),
        ) {
            // The trigram index finds substrings of three characters or more.
            if text.chars().count() >= 3 {
                conditions.push(format!(
                    "{} IN (SELECT rowid FROM {table} WHERE {table} MATCH ${})",
                    spec.default_order,
                    binds.len() + 1
                ));
                binds.push(SqlValue::Text(fts_phrase(text)));
            }
        }
        let count_sql = format!(
            "SELECT COUNT(*) AS count FROM {} WHERE {}",
            listing.from,
            conditions.join(" AND ")
        );
        let count_binds = binds.clone();

        // A cursor back reads the rows before its row in the reverse order.
        let (keys, backward) = match &query.cursor {
            Some(cursor) => {
                let (values, direction) = check.open(cursor, &keys)?;
                let keys: Vec<SortKey> = match direction {
                    Direction::Next => keys,
                    Direction::Previous => keys.into_iter().map(SortKey::reversed).collect(),
                };
                let (sql, more) = keyset_sql(&keys, &values, binds.len() + 1);
                conditions.push(sql);
                binds.extend(more);
                (keys, direction == Direction::Previous)
            }
            None => (keys, false),
        };
        let order = order_by_sql(&keys);
        let condition = conditions.join(" AND ");
        let key_columns: String = keys
            .iter()
            .enumerate()
            .map(|(i, key)| format!(", {} AS sort_key_{i}", key_select(key)))
            .collect();
        let n = binds.len();
        let page_sql = if query.skip >= DEFERRED_SKIP {
            format!(
                "SELECT {}{key_columns} FROM {from} WHERE {id} IN (SELECT {id} FROM {from} \
                 WHERE {condition} ORDER BY {order} LIMIT ${} OFFSET ${}) ORDER BY {order}",
                listing.columns,
                n + 1,
                n + 2,
                from = listing.from,
                id = spec.default_order,
            )
        } else {
            format!(
                "SELECT {}{key_columns} FROM {} WHERE {condition} ORDER BY {order} \
                 LIMIT ${} OFFSET ${}",
                listing.columns,
                listing.from,
                n + 1,
                n + 2
            )
        };
        // One row more than asked tells whether a page follows.
        binds.push(SqlValue::Int(i64::from(query.top) + 1));
        binds.push(SqlValue::Int(i64::try_from(query.skip).unwrap_or(i64::MAX)));

        // The version is read before counting: a count never pairs with a
        // version older than the rows it counted.
        let version = match &listing.version {
            Some((sql, binds)) => bind_all(sqlx::query(sql), binds)
                .fetch_optional(self.pool())
                .await?
                .map(|row| row.try_get::<i64, _>("version"))
                .transpose()?,
            None => None,
        };
        let count_key = format!("{count_sql}\n{count_binds:?}");
        let known = version.and_then(|v| self.counts.get(&count_key, v));
        let count = async {
            if let Some(count) = known {
                return Ok(count);
            }
            let row = bind_all(sqlx::query(&count_sql), &count_binds)
                .fetch_one(self.pool())
                .await?;
            let count: i64 = row.try_get("count")?;
            if let Some(v) = version {
                self.counts.put(count_key.clone(), v, count);
            }
            Ok::<i64, Error>(count)
        };
        let rows = async {
            Ok::<Vec<AnyRow>, Error>(
                bind_all(sqlx::query(&page_sql), &binds)
                    .fetch_all(self.pool())
                    .await?,
            )
        };
        let (count, mut rows) = futures::try_join!(count, rows)?;

        let top = usize::try_from(query.top).unwrap_or(usize::MAX);
        let more = rows.len() > top;
        rows.truncate(top);
        // Rows on the side the page was read from: past its end, or before
        // its start when read backwards; on the other side there is at least
        // the row the cursor or `skip` stepped over.
        let (after, before) = if backward {
            rows.reverse();
            (true, more)
        } else {
            (more, query.cursor.is_some() || query.skip > 0)
        };
        let cursor = match rows.last() {
            Some(last) if after => Some(check.seal(&sort_key_of(last, &keys)?, Direction::Next)),
            _ => None,
        };
        let previous_cursor = match rows.first() {
            Some(first) if before => {
                Some(check.seal(&sort_key_of(first, &keys)?, Direction::Previous))
            }
            _ => None,
        };
        let items = rows.iter().map(map).collect::<Result<Vec<T>>>()?;
        Ok(Page {
            count,
            items,
            cursor,
            previous_cursor,
        })
    }
}

/// Which way from its row a cursor reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Next,
    Previous,
}

impl Direction {
    fn tag(self) -> &'static str {
        match self {
            Direction::Next => "n",
            Direction::Previous => "p",
        }
    }
}

/// The FTS5 query matching `text` as one phrase: with the trigram tokenizer,
/// the rows holding it as a substring (case-insensitively).
fn fts_phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// The sort key column as selected, in a type both databases decode alike.
fn key_select(key: &SortKey) -> String {
    match key.kind {
        FieldKind::Text | FieldKind::Enum(_) => key.column.to_string(),
        FieldKind::Bool => format!(
            "CASE WHEN {c} IS NULL THEN NULL WHEN {c} THEN 1 ELSE 0 END",
            c = key.column
        ),
        FieldKind::Integer | FieldKind::Money | FieldKind::Timestamp | FieldKind::Id => {
            format!("CAST({} AS BIGINT)", key.column)
        }
    }
}

fn sort_key_of(row: &AnyRow, keys: &[SortKey]) -> Result<Vec<Option<SqlValue>>> {
    keys.iter()
        .enumerate()
        .map(|(i, key)| {
            let name = format!("sort_key_{i}");
            Ok(match key.kind {
                FieldKind::Text | FieldKind::Enum(_) => row
                    .try_get::<Option<String>, _>(name.as_str())?
                    .map(SqlValue::Text),
                FieldKind::Bool => row
                    .try_get::<Option<i64>, _>(name.as_str())?
                    .map(|v| SqlValue::Bool(v != 0)),
                _ => row
                    .try_get::<Option<i64>, _>(name.as_str())?
                    .map(SqlValue::Int),
            })
        })
        .collect()
}

/// What a cursor is checked against: the list, its scope, filter, search and
/// order (not `skip` or `top`, which may change from page to page).
struct QueryCheck {
    query: Vec<u8>,
}

/// The refusal of a cursor that does not belong to the request.
fn bad_cursor() -> Error {
    Error::field(
        "cursor",
        "cursor is not one this server gave out for this list with these filter, search and \
         orderby parameters; start again from the first page",
    )
}

impl QueryCheck {
    fn new(listing: &Listing<'_>, conditions: &[String], binds: &[SqlValue], order: &str) -> Self {
        let text = format!(
            "{}\n{}\n{}\n{:?}\n{order}",
            listing.columns,
            listing.from,
            conditions.join(" AND "),
            binds
        );
        QueryCheck {
            query: text.into_bytes(),
        }
    }

    fn mac(&self, direction: Direction, key: &str) -> String {
        let mut hash = Sha256::new();
        hash.update(&self.query);
        hash.update(b"\n");
        hash.update(direction.tag().as_bytes());
        hash.update(b"\n");
        hash.update(key.as_bytes());
        hex::encode(&hash.finalize()[..12])
    }

    /// The cursor of a row with this sort key, reading `direction` from it.
    fn seal(&self, values: &[Option<SqlValue>], direction: Direction) -> String {
        let key: Vec<Value> = values
            .iter()
            .map(|v| match v {
                None => Value::Null,
                Some(SqlValue::Int(i)) => Value::from(*i),
                Some(SqlValue::Text(s)) => Value::from(s.as_str()),
                Some(SqlValue::Bool(b)) => Value::from(*b),
            })
            .collect();
        let key = Value::Array(key).to_string();
        let body = serde_json::json!({
            "k": key,
            "d": direction.tag(),
            "c": self.mac(direction, &key),
        })
        .to_string();
        URL_SAFE_NO_PAD.encode(body)
    }

    /// The sort key a cursor holds and the way it reads, if it is one of
    /// this query's.
    fn open(&self, cursor: &str, keys: &[SortKey]) -> Result<(Vec<Option<SqlValue>>, Direction)> {
        let bytes = URL_SAFE_NO_PAD
            .decode(cursor.trim_end_matches('='))
            .map_err(|_| bad_cursor())?;
        let body: Value = serde_json::from_slice(&bytes).map_err(|_| bad_cursor())?;
        let (Some(key), Some(tag), Some(mac)) =
            (body["k"].as_str(), body["d"].as_str(), body["c"].as_str())
        else {
            return Err(bad_cursor());
        };
        let direction = match tag {
            "n" => Direction::Next,
            "p" => Direction::Previous,
            _ => return Err(bad_cursor()),
        };
        if self.mac(direction, key) != mac {
            return Err(bad_cursor());
        }
        let Ok(Value::Array(values)) = serde_json::from_str::<Value>(key) else {
            return Err(bad_cursor());
        };
        if values.len() != keys.len() {
            return Err(bad_cursor());
        }
        let values = keys
            .iter()
            .zip(values)
            .map(|(key, value)| match (key.kind, value) {
                (_, Value::Null) if !key.unique => Ok(None),
                (FieldKind::Text | FieldKind::Enum(_), Value::String(s)) => {
                    Ok(Some(SqlValue::Text(s)))
                }
                (FieldKind::Bool, Value::Bool(b)) => Ok(Some(SqlValue::Bool(b))),
                (
                    FieldKind::Integer | FieldKind::Money | FieldKind::Timestamp | FieldKind::Id,
                    Value::Number(n),
                ) => n
                    .as_i64()
                    .map(|i| Some(SqlValue::Int(i)))
                    .ok_or_else(bad_cursor),
                _ => Err(bad_cursor()),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((values, direction))
    }
}
