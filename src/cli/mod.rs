//! The `steadygrad` command line: flags ([`args`]), the subcommands ([`commands`], [`bench`],
//! [`transfer`], [`health`], [`experiment`]; `train --distributed` in [`distributed`]), what they print ([`report`]) and the epoch history file
//! ([`history`]) — a thin layer over the library.

pub mod args;
pub mod bench;
pub mod commands;
pub mod distributed;
pub mod experiment;
pub mod fit;
pub mod health;
pub mod history;
pub mod outputs;
pub mod report;
pub mod transfer;
pub mod tune;
