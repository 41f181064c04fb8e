pub mod consent;
pub mod health;
