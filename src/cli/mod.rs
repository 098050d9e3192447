//! The `steadygrad` command line: flags ([`args`]), the subcommands ([`commands`],
//! [`transfer`]) and what they print ([`report`]) — a thin layer over the library.

pub mod args;
pub mod commands;
pub mod health;
pub mod report;
pub mod transfer;
