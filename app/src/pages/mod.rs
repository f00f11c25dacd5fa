pub mod billing;
pub mod billing_plans;
pub mod home;
pub mod login;
pub mod not_found;
pub mod rates;
pub mod tariffs;
