//! Server functions: what the pages ask the server, under `/portal/fn`.
//!
//! Each one takes the caller from the portal session (never from the
//! request) and runs the same `billing` use case as the REST API, which checks
//! the caller's rights and tenant itself. Inputs that can be wrong field by
//! field are checked with the `model` validators that the browser has already
//! run, and a refusal comes back as [`Answer::Invalid`] so that the form can
//! show each message next to its field.

pub mod auth;
pub mod billing;
pub mod rates;
pub mod tariffs;
pub mod tenants;

use model::FieldError;
use serde::{Deserialize, Serialize};

/// The outcome of a change that the server may refuse field by field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Answer<T> {
    /// Done; what the server answers about the result.
    Done(T),
    /// Refused; each problem names its field.
    Invalid(Vec<FieldError>),
}

/// A use case's result as an [`Answer`]: validation errors become
/// `Invalid`, anything else a server-function error.
#[cfg(feature = "ssr")]
pub(crate) fn answer<T>(
    result: ::billing::Result<T>,
) -> Result<Answer<T>, leptos::prelude::ServerFnError> {
    match result {
        Ok(value) => Ok(Answer::Done(value)),
        Err(::billing::Error::Validation(errors)) => Ok(Answer::Invalid(errors)),
        Err(e) => Err(crate::server::to_server_error(e)),
    }
}
