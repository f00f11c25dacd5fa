//! Who is calling: passwords, login tokens, named API tokens.
//!
//! Passwords are argon2 hashes ([`password`]). Tokens are 64 random hex
//! characters handed out once; only their SHA-256 is stored, so a leaked
//! database holds no usable token ([`tokens`]). A [`login`] trades a password
//! for a pair of tokens; the [`caller`] and the tenant [`Scope`] it acts on are
//! what every use case is authorised against.

mod caller;
mod login;
mod password;
mod tokens;

pub use caller::{Caller, Scope};
pub use login::Login;
pub use password::{hash_password, validate_password, verify_password};
pub(crate) use tokens::token_hash;
pub(crate) use tokens::TokenCache;
pub use tokens::{
    new_secret, ApiTokenInfo, ApiTokenListing, ACCESS_TOKEN_SECONDS, LAST_USED_PRECISION_MS,
    REFRESH_TOKEN_SECONDS, TOKEN_CACHE_TTL, TOKEN_SPEC,
};
