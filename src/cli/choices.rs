//! The command line's names for the library's choices: the library does not
//! use clap, so each choice the flags offer is mirrored here and converted.

use clap::ValueEnum;
use ualign::dynamics::Dynamics;
use ualign::engine::BackendChoice;
use ualign::population::generate::Model;

/// `--backend`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    /// The CPU engine, or a hardware GPU for self-play batches of at least
    /// 4,096 populations; never a software adapter.
    Auto,
    /// A GPU adapter (hardware or software) or an error.
    Gpu,
    /// The exact f64 CPU engine on all cores.
    Cpu,
}

impl From<BackendArg> for BackendChoice {
    fn from(b: BackendArg) -> BackendChoice {
        match b {
            BackendArg::Auto => BackendChoice::Auto,
            BackendArg::Gpu => BackendChoice::Gpu,
            BackendArg::Cpu => BackendChoice::Cpu,
        }
    }
}

/// `--dynamics`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DynamicsArg {
    /// Projected gradient ascent.
    Pga,
    /// Multiplicative weights (Hedge).
    Mwu,
    /// Optimistic projected gradient ascent.
    Optimistic,
    /// Extragradient (half step, re-evaluate, step from π_t).
    Extragradient,
}

impl From<DynamicsArg> for Dynamics {
    fn from(d: DynamicsArg) -> Dynamics {
        match d {
            DynamicsArg::Pga => Dynamics::Pga,
            DynamicsArg::Mwu => Dynamics::Mwu,
            DynamicsArg::Optimistic => Dynamics::Optimistic,
            DynamicsArg::Extragradient => Dynamics::Extragradient,
        }
    }
}

/// `generate --model`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ModelArg {
    Impartial,
    Mallows,
    Pl,
    Bt,
    Cycle,
    Condorcet,
    #[value(name = "perturbed_cycle")]
    PerturbedCycle,
}

impl From<ModelArg> for Model {
    fn from(m: ModelArg) -> Model {
        match m {
            ModelArg::Impartial => Model::Impartial,
            ModelArg::Mallows => Model::Mallows,
            ModelArg::Pl => Model::Pl,
            ModelArg::Bt => Model::Bt,
            ModelArg::Cycle => Model::Cycle,
            ModelArg::Condorcet => Model::Condorcet,
            ModelArg::PerturbedCycle => Model::PerturbedCycle,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each command-line name is the library's own name for the same choice.
    #[test]
    fn names_match_the_library() {
        for d in DynamicsArg::value_variants() {
            assert_eq!(d.to_possible_value().unwrap().get_name(), Dynamics::from(*d).name());
        }
        for m in ModelArg::value_variants() {
            assert_eq!(m.to_possible_value().unwrap().get_name(), Model::from(*m).name());
        }
        for b in BackendArg::value_variants() {
            let name = b.to_possible_value().unwrap().get_name().to_string();
            let parsed: BackendChoice = serde_json::from_str(&format!("\"{name}\"")).unwrap();
            assert_eq!(parsed, BackendChoice::from(*b));
        }
    }
}
