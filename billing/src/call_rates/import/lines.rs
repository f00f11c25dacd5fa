//! An import's reading of its file: the header line names the columns,
//! each later line becomes a rate or the problems of its fields (a prefix
//! named twice among them), every problem with its line number.

use model::call_rate::{prefix_key, CallRateFields, CSV_COLUMNS};
use model::FieldError;

use super::{Import, LineError, IMPORT_ERRORS_LISTED};
use crate::csv;

impl Import {
    pub(super) fn fail(&mut self, line: u64, field: Option<String>, message: String) {
        if self.errors.len() < IMPORT_ERRORS_LISTED {
            self.errors.push(LineError {
                line,
                field,
                message,
            });
        } else {
            self.more_errors += 1;
        }
    }

    pub(super) fn take(&mut self, record: csv::Record) {
        let Some(columns) = &self.columns else {
            self.read_header(record);
            return;
        };
        if record.fields.len() != columns.len() {
            let message = format!(
                "has {} fields where the header names {}",
                record.fields.len(),
                columns.len()
            );
            self.fail(record.line, None, message);
            return;
        }
        let mut body = serde_json::Map::new();
        for (name, value) in columns.iter().zip(record.fields) {
            let value = csv::untext(value);
            if *name != "id" && !value.is_empty() {
                body.insert((*name).to_string(), serde_json::Value::String(value));
            }
        }
        // A repeated prefix is named even on a line with other faults.
        let mut repeated = false;
        if let Some(serde_json::Value::String(prefix)) = body.get("prefix") {
            let key: Box<str> = prefix_key(prefix).into();
            match self.seen.get(&key) {
                Some(first) => {
                    let message = format!("repeats the prefix of line {first}");
                    self.fail(record.line, Some("prefix".into()), message);
                    repeated = true;
                }
                None => {
                    self.seen.insert(key, record.line);
                }
            }
        }
        match CallRateFields::from_json(&body) {
            Ok(rate) if !repeated && self.errors.is_empty() => self.batch.push((record.line, rate)),
            Ok(_) => {}
            Err(errors) => {
                for FieldError { field, message } in errors {
                    self.fail(record.line, Some(field), message);
                }
            }
        }
    }

    pub(super) fn read_header(&mut self, record: csv::Record) {
        let mut columns = Vec::new();
        for name in &record.fields {
            let name = name.trim();
            match CSV_COLUMNS.iter().find(|c| **c == name) {
                Some(c) if columns.contains(c) => self.fail(
                    record.line,
                    Some(name.to_string()),
                    "is named twice in the header".into(),
                ),
                Some(c) => columns.push(*c),
                None => self.fail(
                    record.line,
                    Some(name.to_string()),
                    format!("is not a column; columns are {}", CSV_COLUMNS.join(", ")),
                ),
            }
        }
        for required in model::call_rate::REQUIRED {
            if !columns.contains(required) {
                self.fail(
                    record.line,
                    Some((*required).to_string()),
                    "column is missing from the header".into(),
                );
            }
        }
        self.columns = Some(columns);
    }
}
