pub mod dissect;
pub mod input;
