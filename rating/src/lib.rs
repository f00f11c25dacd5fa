//! Rating engine.
