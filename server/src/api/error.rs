//! The REST error format: `{"errors":[{"code","message","detail"}]}`.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use billing::Error;
use model::query::QueryError;
use serde::Serialize;

/// One entry of the `errors` list.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ErrorEntry {
    pub code: &'static str,
    pub message: String,
    pub detail: String,
    /// The field (or parameter) at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The line of an uploaded file at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

#[derive(Debug, Serialize)]
struct ErrorBody {
    errors: Vec<ErrorEntry>,
}

/// Any failure of a REST handler.
#[derive(Debug)]
pub struct ApiError(pub Error);

pub type ApiResult<T> = Result<T, ApiError>;

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        ApiError(e)
    }
}

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> ApiError {
        ApiError(Error::field(e.parameter, e.message))
    }
}

impl From<Vec<model::FieldError>> for ApiError {
    fn from(e: Vec<model::FieldError>) -> ApiError {
        ApiError(Error::Validation(e))
    }
}

impl ApiError {
    pub fn validation(field: &str, message: impl Into<String>) -> ApiError {
        ApiError(Error::field(field, message))
    }
}

fn entry(code: &'static str, message: String, detail: String) -> ErrorEntry {
    ErrorEntry {
        code,
        message,
        detail,
        field: None,
        line: None,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, errors) = match self.0 {
            Error::Validation(fields) => (
                StatusCode::BAD_REQUEST,
                fields
                    .into_iter()
                    .map(|f| ErrorEntry {
                        code: "VALIDATE_FAILED",
                        message: format!("{} {}", f.field, f.message),
                        detail: format!("The field '{}' is invalid: it {}.", f.field, f.message),
                        field: Some(f.field),
                        line: None,
                    })
                    .collect(),
            ),
            Error::BadLines { lines, more } => {
                let mut errors: Vec<ErrorEntry> = lines
                    .into_iter()
                    .map(|l| {
                        let message = match &l.field {
                            Some(f) => format!("line {}: {} {}", l.line, f, l.message),
                            None => format!("line {}: {}", l.line, l.message),
                        };
                        ErrorEntry {
                            code: "VALIDATE_FAILED",
                            detail: message.clone(),
                            message,
                            field: l.field,
                            line: Some(l.line),
                        }
                    })
                    .collect();
                if more > 0 {
                    errors.push(entry(
                        "VALIDATE_FAILED",
                        format!("{more} more bad lines are not listed"),
                        "Nothing was imported.".into(),
                    ));
                }
                (StatusCode::BAD_REQUEST, errors)
            }
            Error::NotFound(what) => (
                StatusCode::NOT_FOUND,
                vec![entry(
                    "NOT_FOUND",
                    format!("{what} not found"),
                    format!("No {what} with this id exists for the caller."),
                )],
            ),
            Error::Forbidden(message) => (
                StatusCode::FORBIDDEN,
                vec![entry(
                    "FORBIDDEN",
                    message,
                    "The caller's role does not allow this.".into(),
                )],
            ),
            Error::Unauthorized(message) => {
                let body = ErrorBody {
                    errors: vec![entry(
                        "UNAUTHORIZED",
                        message,
                        "Send a valid token as 'Authorization: Bearer <token>'.".into(),
                    )],
                };
                return (
                    StatusCode::UNAUTHORIZED,
                    [(header::WWW_AUTHENTICATE, "Bearer")],
                    Json(body),
                )
                    .into_response();
            }
            Error::TooManyRequests {
                retry_after_seconds,
            } => {
                let body = ErrorBody {
                    errors: vec![entry(
                        "TOO_MANY_REQUESTS",
                        format!(
                            "too many failed logins: try again in {retry_after_seconds} seconds"
                        ),
                        "Logins for this account or from this address are locked for a while \
                         after repeated failures; every attempt is refused until then."
                            .into(),
                    )],
                };
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(header::RETRY_AFTER, retry_after_seconds.to_string())],
                    Json(body),
                )
                    .into_response();
            }
            Error::Refused { code, message } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                vec![entry(code, message, String::new())],
            ),
            Error::Inactive { code, message } => (
                StatusCode::FORBIDDEN,
                vec![entry(
                    code,
                    message,
                    "The credentials are right, but this account may not be used now.".into(),
                )],
            ),
            Error::Conflict { code, message } => (
                StatusCode::CONFLICT,
                vec![entry(code, message, String::new())],
            ),
            Error::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    vec![entry(
                        "INTERNAL_ERROR",
                        "internal error".into(),
                        "The server could not complete the request; it has been logged.".into(),
                    )],
                )
            }
        };
        (status, Json(ErrorBody { errors })).into_response()
    }
}

/// The answer for paths under `/api` that name no operation.
pub async fn unknown_route() -> Response {
    let body = ErrorBody {
        errors: vec![entry(
            "NOT_FOUND",
            "no such API operation".into(),
            "See /api/openapi.json for the operations this server offers.".into(),
        )],
    };
    (StatusCode::NOT_FOUND, Json(body)).into_response()
}

/// The answer for a known path called with a method it does not take.
pub async fn wrong_method() -> Response {
    let body = ErrorBody {
        errors: vec![entry(
            "METHOD_NOT_ALLOWED",
            "this operation does not take that HTTP method".into(),
            "See /api/openapi.json for the methods of each path.".into(),
        )],
    };
    (StatusCode::METHOD_NOT_ALLOWED, Json(body)).into_response()
}
