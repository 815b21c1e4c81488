pub mod client_args;
pub mod dissect;
pub mod input;
pub mod probe;
pub mod keylog;
pub mod send;
pub mod sensor;
