//! The programs that run inside the measured init (or, for the floors, instead of it). Each is
//! a subcommand of `initbench`, so one binary serves the driver and its children.

pub mod hup;
pub mod leftovers;
pub mod sig;
pub mod storm;
