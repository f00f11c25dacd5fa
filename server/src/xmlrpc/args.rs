//! A method's one struct of named members, read into the use cases' field
//! names (through the [`Aliases`] of its resource) so that the same checks
//! apply as on every surface; errors are told back in the member names.

use billing::Error;
use model::FieldError;
use serde_json::{Map, Value};

use super::codec::XValue;
use super::{dates, describe, Fault, INVALID_PARAMS};
use crate::aliases::Aliases;

/// A call to a method: its name and the members of its struct.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    pub method: &'a str,
    members: &'a [(String, XValue)],
}

impl<'a> Call<'a> {
    /// The members of a method's one struct parameter (none: an empty struct).
    pub fn new(method: &'a str, params: &'a [XValue]) -> Result<Call<'a>, Fault> {
        let members = match params {
            [] => &[][..],
            [XValue::Struct(members)] => members.as_slice(),
            [other] => {
                return Err(Fault(
                    INVALID_PARAMS,
                    format!(
                        "{method} takes one struct of named members, not a {}",
                        other.type_name()
                    ),
                ))
            }
            _ => {
                return Err(Fault(
                    INVALID_PARAMS,
                    format!("{method} takes one struct of named members"),
                ))
            }
        };
        Ok(Call { method, members })
    }

    /// The members, read with a resource's names; members outside them and
    /// `others` are refused, so a misspelt member is not silently ignored.
    pub fn args(self, names: Aliases, others: &[&str]) -> Result<Args<'a>, Fault> {
        for (name, _) in self.members {
            if !others.contains(&name.as_str()) && !names.has(name) {
                return Err(Fault(
                    INVALID_PARAMS,
                    format!("{} takes no member '{name}'", self.method),
                ));
            }
        }
        Ok(Args {
            members: self.members,
            names,
        })
    }
}

/// A method's members, read into the use cases' field names.
pub struct Args<'a> {
    members: &'a [(String, XValue)],
    names: Aliases,
}

impl<'a> Args<'a> {
    fn get(&self, member: &str) -> Option<&'a XValue> {
        self.members
            .iter()
            .find(|(k, _)| k == member)
            .map(|(_, v)| v)
    }

    /// Field problems as a fault that names the members.
    pub fn fault(&self, errors: Vec<FieldError>) -> Fault {
        Fault(INVALID_PARAMS, describe(&self.names.to_names(errors)))
    }

    /// A use case's refusal as a fault; field problems name the members.
    pub fn error(&self, e: Error) -> Fault {
        match e {
            Error::Validation(fields) => self.fault(fields),
            e => e.into(),
        }
    }

    /// An id member: an int, or a string holding one.
    pub fn id(&self, member: &str) -> Result<Option<i64>, Fault> {
        match self.get(member) {
            None | Some(XValue::Nil) => Ok(None),
            Some(XValue::Int(i)) if *i > 0 => Ok(Some(*i)),
            Some(XValue::Str(s)) => match s.trim().parse::<i64>() {
                Ok(i) if i > 0 => Ok(Some(i)),
                _ => Err(Fault(
                    INVALID_PARAMS,
                    format!("{member} must be an id (a positive int, or a string holding one)"),
                )),
            },
            Some(v) => Err(Fault(
                INVALID_PARAMS,
                format!(
                    "{member} must be an id (a positive int, or a string holding one), not a {}",
                    v.type_name()
                ),
            )),
        }
    }

    pub fn required_id(&self, member: &str) -> Result<i64, Fault> {
        self.id(member)?
            .ok_or_else(|| Fault(INVALID_PARAMS, format!("{member} is required")))
    }

    /// An int member (an int, or a string holding one).
    pub fn int(&self, member: &str, min: i64, max: i64) -> Result<Option<i64>, Fault> {
        let n = match self.get(member) {
            None | Some(XValue::Nil) => return Ok(None),
            Some(XValue::Int(i)) => Some(*i),
            Some(XValue::Str(s)) => s.trim().parse::<i64>().ok(),
            Some(_) => None,
        };
        match n {
            Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
            Some(_) => Err(Fault(
                INVALID_PARAMS,
                format!("{member} must be between {min} and {max}"),
            )),
            None => Err(Fault(INVALID_PARAMS, format!("{member} must be an int"))),
        }
    }

    /// The members as a JSON object with the fields' names. Doubles keep
    /// their digits; dates become RFC 3339 text; nil becomes null.
    pub fn json(&self) -> Result<Map<String, Value>, Fault> {
        let mut out = Map::new();
        for (member, field) in self.names.pairs() {
            let Some(v) = self.get(member) else { continue };
            if field.ends_with("_at") {
                let date = match self.date(member)? {
                    Some(Some(ms)) => Value::String(dates::rfc3339(ms)),
                    _ => Value::Null,
                };
                out.insert(field.to_string(), date);
                continue;
            }
            let json = match v {
                XValue::Int(i) => Value::from(*i),
                XValue::Bool(b) => Value::Bool(*b),
                XValue::Str(s) => Value::String(s.clone()),
                XValue::Double(text) => match text.parse::<serde_json::Number>() {
                    Ok(n) => Value::Number(n),
                    Err(_) => Value::String(text.clone()),
                },
                XValue::Nil => Value::Null,
                other => {
                    return Err(Fault(
                        INVALID_PARAMS,
                        format!("{member} must not be a {}", other.type_name()),
                    ))
                }
            };
            out.insert(field.to_string(), json);
        }
        Ok(out)
    }

    fn date_fault(&self, member: &str, why: &str) -> Fault {
        Fault(
            INVALID_PARAMS,
            format!(
                "{member} {why}: send a dateTime.iso8601 in UTC or a string such as \
                 '09:57:29.000 GMT Mon May 29 2017'"
            ),
        )
    }

    /// A date member: dateTime.iso8601 or the documented string; `Some(None)` for nil.
    pub fn date(&self, member: &str) -> Result<Option<Option<i64>>, Fault> {
        match self.get(member) {
            None => Ok(None),
            Some(XValue::Nil) => Ok(Some(None)),
            Some(XValue::DateTime(text)) => dates::parse_iso8601(text)
                .map(|ms| Some(Some(ms)))
                .map_err(|m| self.date_fault(member, m)),
            Some(XValue::Str(text)) => dates::parse_text(text)
                .or_else(|_| dates::parse_iso8601(text))
                .map(|ms| Some(Some(ms)))
                .map_err(|_| self.date_fault(member, "is not a date")),
            Some(v) => Err(self.date_fault(member, &format!("is a {}", v.type_name()))),
        }
    }

    /// The `iso_4217` member, checked against the real code list.
    pub fn currency(&self) -> Result<Option<String>, Fault> {
        match self.get("iso_4217") {
            None | Some(XValue::Nil) => Ok(None),
            Some(XValue::Str(code)) => model::currency::parse_currency(code)
                .map(Some)
                .map_err(|m| Fault(INVALID_PARAMS, format!("iso_4217 {m}"))),
            Some(v) => Err(Fault(
                INVALID_PARAMS,
                format!("iso_4217 must be a string, not a {}", v.type_name()),
            )),
        }
    }
}
