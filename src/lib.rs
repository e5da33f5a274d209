//! ualign: simulate asymptotic universal alignment through test-time scaling.
//!
//! Data flows one way: [`population`] → [`engine`] (kernels: [`cpu`] in f64,
//! [`gpu`] in WGSL) → [`dynamics`] / [`equilibrium`] → [`metrics`] →
//! [`results`] → [`plot`]; `docs/architecture.md` has the module picture.
//! The mathematics is described in `docs/theory.md`.

pub mod baselines;
pub mod cpu;
pub mod dynamics;
pub mod engine;
pub mod equilibrium;
pub mod error;
pub mod gpu;
pub mod limits;
pub(crate) mod linalg;
pub mod maximal_lottery;
pub mod metrics;
pub mod plot;
pub mod population;
pub mod results;
pub mod sweep;

pub use error::{Error, Result};
pub use population::{Kind, Population, UserType};
