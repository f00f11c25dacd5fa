//! Ratedeck's shared domain types. Everything here compiles for the browser too.

pub mod query;
