//! One page of a list: the `{count, items}` every list endpoint answers.
//!
//! The count and the page come from the same FROM and WHERE text with the same
//! binds, so they can never disagree about what matches.

use model::query::{ListQuery, ResourceSpec, SqlValue};
use serde::{Deserialize, Serialize};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, Row};

use crate::db::Db;
use crate::error::Result;

/// A page of results and how many match in all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    pub count: i64,
    pub items: Vec<T>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            count: self.count,
            items: self.items.into_iter().map(f).collect(),
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

impl Db {
    pub(crate) async fn page<T>(
        &self,
        listing: Listing<'_>,
        query: &ListQuery,
        map: impl Fn(&AnyRow) -> Result<T>,
    ) -> Result<Page<T>> {
        let parts = query.to_sql(listing.spec, listing.scope_binds.len() + 1);
        let condition = if parts.where_sql.is_empty() {
            listing.scope.to_string()
        } else {
            format!("{} AND {}", listing.scope, parts.where_sql)
        };
        let mut binds = listing.scope_binds;
        binds.extend(parts.binds);

        let count_sql = format!(
            "SELECT COUNT(*) AS count FROM {} WHERE {condition}",
            listing.from
        );
        let count: i64 = bind_all(sqlx::query(&count_sql), &binds)
            .fetch_one(self.pool())
            .await?
            .try_get("count")?;

        let n = binds.len();
        let page_sql = format!(
            "SELECT {} FROM {} WHERE {condition} ORDER BY {} LIMIT ${} OFFSET ${}",
            listing.columns,
            listing.from,
            parts.order_sql,
            n + 1,
            n + 2
        );
        binds.push(SqlValue::Int(i64::from(query.top)));
        binds.push(SqlValue::Int(i64::try_from(query.skip).unwrap_or(i64::MAX)));
        let rows = bind_all(sqlx::query(&page_sql), &binds)
            .fetch_all(self.pool())
            .await?;
        let items = rows.iter().map(map).collect::<Result<Vec<T>>>()?;
        Ok(Page { count, items })
    }
}
