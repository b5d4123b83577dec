//! (being built)
pub mod links;
