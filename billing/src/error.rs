//! The one error type of the use cases. Front doors translate it into their
//! own wire format (JSON errors, XML-RPC faults, form messages).

use model::FieldError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// The input is wrong; each problem names its field.
    #[error("validation failed: {}", list(.0))]
    Validation(Vec<FieldError>),
    /// No such thing, or not one the caller may see (the two are not told apart).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The caller is known but its role may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// No valid credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// Lines of an uploaded file that cannot be taken (the file was refused whole).
    #[error("{} bad lines", .lines.len() as u64 + .more)]
    BadLines {
        lines: Vec<crate::call_rates::LineError>,
        /// Bad lines beyond those listed.
        more: u64,
    },
    /// The request is understood but cannot be granted (no rate, forbidden
    /// destination, insufficient funds): the code says which.
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    /// The caller's tenant is suspended or the caller's user disabled
    /// (`TENANT_SUSPENDED`, `USER_DISABLED`): the credentials are right but
    /// may not be used now.
    #[error("{message}")]
    Inactive { code: &'static str, message: String },
    /// A request that is well-formed but cannot be done in the current state.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// Too many failed logins for the account or from the client address:
    /// every attempt is refused until the lock ends.
    #[error("too many failed logins: try again in {retry_after_seconds} seconds")]
    TooManyRequests { retry_after_seconds: u64 },
    /// Anything unexpected: logged in full, shown to no client.
    #[error("internal error: {0}")]
    Internal(String),
}

fn list(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl Error {
    pub fn field(field: &str, message: impl Into<String>) -> Error {
        Error::Validation(vec![FieldError::new(field, message)])
    }

    pub fn internal(e: impl std::fmt::Display) -> Error {
        Error::Internal(e.to_string())
    }
}

/// `amount` of `field` in the database's integer units of 1/100000; an amount
/// they cannot hold is a validation error at the field, never a saturated value.
pub(crate) fn stored_units(field: &str, amount: model::Money) -> Result<i64> {
    amount
        .to_units()
        .map_err(|e| Error::field(field, e.to_string()))
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Error {
        Error::Internal(format!("database: {e}"))
    }
}

impl From<Vec<FieldError>> for Error {
    fn from(errors: Vec<FieldError>) -> Error {
        Error::Validation(errors)
    }
}

/// True when a database error is a unique-constraint violation, on either backend.
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            db.is_unique_violation()
                || db.code().as_deref() == Some("23505")
                || db.message().contains("UNIQUE constraint failed")
        }
        _ => false,
    }
}
