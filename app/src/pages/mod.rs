pub mod billing_plans;
pub mod billing_settings;
pub mod cdrs;
pub mod home;
pub mod login;
pub mod not_found;
pub mod rates;
pub mod tariffs;
