pub mod bridge;
pub mod client_args;
pub mod dissect;
pub mod input;
pub mod keylog;
pub mod probe;
pub mod send;
pub mod sensor;
