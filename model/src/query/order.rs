//! The `orderby` parameter: `field [asc|desc], ...`.
//!
//! Simple enough not to need the filter tokenizer: items are separated by
//! commas and each item is one or two whitespace-separated words.

use super::{Direction, OrderKey, QueryError, ResourceSpec};

fn error(message: String) -> QueryError {
    QueryError::new("orderby", message)
}

/// Parses a (non-blank) `orderby` value against the resource's sortable
/// fields. Field names are exact, `asc`/`desc` case-insensitive, and a field
/// may appear only once.
pub(crate) fn parse_orderby(text: &str, spec: &ResourceSpec) -> Result<Vec<OrderKey>, QueryError> {
    let mut keys: Vec<OrderKey> = Vec::new();
    for (index, item) in text.split(',').enumerate() {
        let mut words = item.split_whitespace();
        let Some(name) = words.next() else {
            return Err(error(format!(
                "orderby item {} is empty; expected 'field' or 'field desc'",
                index + 1
            )));
        };
        let field = match spec.field(name) {
            Some(field) if field.sortable => field,
            Some(_) => {
                return Err(error(format!(
                    "field '{name}' cannot be used in orderby; sortable fields: {}",
                    spec.sortable_names()
                )))
            }
            None => {
                return Err(error(format!(
                    "unknown field '{name}' in orderby; sortable fields: {}",
                    spec.sortable_names()
                )))
            }
        };
        let direction_word = words.next();
        let direction = match direction_word {
            None => Direction::Asc,
            Some(word) if word.eq_ignore_ascii_case("asc") => Direction::Asc,
            Some(word) if word.eq_ignore_ascii_case("desc") => Direction::Desc,
            Some(word) => {
                return Err(error(format!(
                    "expected 'asc' or 'desc' after '{name}' in orderby, got '{word}'"
                )))
            }
        };
        if let Some(extra) = words.next() {
            let word = match direction_word {
                Some(word) => format!("{name} {word}"),
                None => name.to_owned(),
            };
            return Err(error(format!(
                "unexpected '{extra}' after '{word}' in orderby; separate fields with commas"
            )));
        }
        if keys.iter().any(|k| k.field.name == field.name) {
            return Err(error(format!(
                "field '{name}' appears more than once in orderby"
            )));
        }
        keys.push(OrderKey { field, direction });
    }
    Ok(keys)
}
