//! One module per measured figure. Each runs every init of a round before the next round
//! starts, so drift on the machine hits them all alike, and prints one sample per row (see
//! `opts::emit`).

pub mod hupflood;
pub mod idle;
pub mod leftovers;
pub mod reap;
pub mod shutdown;
pub mod signals;
pub mod startup;
