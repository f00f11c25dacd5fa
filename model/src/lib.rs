//! Ratedeck's shared domain types. Everything here compiles for the browser too,
//! so the portal validates with the same code the server runs.

pub mod billing_plan;
pub mod billing_settings;
pub mod bounds;
pub mod call_rate;
pub mod cdr;
pub mod currency;
pub mod deck;
pub mod fields;
pub mod id;
pub mod money;
pub mod number;
pub mod query;
pub mod statement;
pub mod tariff;
pub mod tenant;
pub mod user;
pub mod webhook;

pub use fields::{FieldError, Fields, WireEnum};
pub use id::ApiId;
pub use money::Money;
