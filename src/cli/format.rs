//! Readable tables for a terminal (the JSON output carries the same numbers).

use std::fmt::Write;

use ualign::baselines::CompareRow;
use ualign::dynamics::{Solution, SolveOptions};
use ualign::equilibrium::EquilibriumOptions;
use ualign::metrics::Evaluation;
use ualign::Population;

fn header(pop: &Population, k: usize) -> String {
    format!(
        "population: {} responses, {} types; k = {k}, bound k/(k+1) = {:.6}\n",
        pop.responses,
        pop.types.len(),
        k as f64 / (k as f64 + 1.0)
    )
}

/// `v` with `decimals` places, without a minus sign on a value that rounds
/// to zero (`-0.0000` is rounding noise around 0, printed `0.0000`).
fn fixed(v: f64, decimals: usize) -> String {
    let text = format!("{v:.decimals$}");
    match text.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
        _ => text,
    }
}

fn per_response(pop: &Population, policy: &[f64], e: &Evaluation) -> String {
    let width = (0..pop.responses).map(|y| pop.label(y).len()).max().unwrap_or(1).max(8);
    let mut s = format!("{:<width$}  {:>10}  {:>12}  {:>12}\n", "response", "π(y)", "g(π)(y)", "win rate");
    for y in 0..pop.responses {
        let _ = writeln!(
            s,
            "{:<width$}  {:>10}  {:>12}  {:>12}",
            pop.label(y),
            fixed(policy[y], 6),
            fixed(e.deviation[y], 9),
            fixed(e.win_rate[y], 9)
        );
    }
    s
}

fn summary(e: &Evaluation) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "robust alignment R_k = {}", fixed(e.robust_alignment, 9));
    let _ = writeln!(s, "exploitability   E_k = {:.3e}", e.exploitability);
    if let (Some(ell), Some(r)) = (e.ell, e.robust_alignment_ell) {
        let _ = writeln!(s, "R_k,ℓ (ℓ = {ell})      = {r:.9}");
    }
    let _ = writeln!(
        s,
        "support {} of {}, entropy {} nats, sum-rule residual {:.1e}",
        e.support,
        e.deviation.len(),
        fixed(e.entropy, 4),
        e.sum_residual
    );
    s
}

pub fn evaluation(pop: &Population, policy: &[f64], e: &Evaluation) -> String {
    header(pop, e.k) + &per_response(pop, policy, e) + &summary(e)
}

pub fn solution(pop: &Population, s: &Solution, opts: &SolveOptions) -> String {
    let status = if s.converged { "converged" } else { "NOT converged" };
    let mut out = header(pop, s.evaluation.k);
    let dynamics = opts.dynamics.name();
    let _ = writeln!(
        out,
        "{}, η = {}, {} after {} iterations (tol {:.0e})",
        dynamics, opts.eta, status, s.iterations, opts.tol
    );
    out += &per_response(pop, &s.policy, &s.evaluation);
    out += &summary(&s.evaluation);
    let _ = writeln!(out, "time-average output: R = {:.9}, regret Reg_T = {:.6}", s.average_robust_alignment, s.regret);
    out
}

pub fn equilibrium(pop: &Population, e: &ualign::equilibrium::Equilibrium, opts: &EquilibriumOptions) -> String {
    let status = if e.converged { "converged" } else { "NOT converged" };
    let mut out = header(pop, e.evaluation.k);
    let method = serde_json::to_value(e.method).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    let path = match (e.path_steps, e.method) {
        (0, _) => String::new(),
        (steps, ualign::equilibrium::Method::InteriorPoint) => format!("{steps} interior-point steps, "),
        (steps, _) => format!("{steps} path steps to λ = {:.3}, ", e.lambda),
    };
    let _ = writeln!(
        out,
        "equilibrium solver ({method}), {status} (tol {:.0e}): {path}{} Newton steps",
        opts.tol, e.newton_steps
    );
    out += &per_response(pop, &e.policy, &e.evaluation);
    out += &summary(&e.evaluation);
    out
}

/// The `compare` table. An equilibrium entry whose solver did not reach its
/// tolerance is not an equilibrium: it is marked `*` and explained below.
pub fn comparison(pop: &Population, rows: &[CompareRow], nlhf_unique: bool) -> String {
    let mut s = format!(
        "population: {} responses, {} types; robust alignment R_k of each method\n",
        pop.responses,
        pop.types.len()
    );
    let _ = writeln!(
        s,
        "{:>3}  {:>10}  {:>11}  {:>10}  {:>10}  {:>10}",
        "k", "k/(k+1)", "equilibrium", "NLHF", "RLHF", "uniform"
    );
    for r in rows {
        let mark = if r.equilibrium_converged { ' ' } else { '*' };
        let _ = writeln!(
            s,
            "{:>3}  {:>10.6}  {:>10.6}{mark}  {:>10.6}  {:>10.6}  {:>10.6}",
            r.k, r.bound, r.equilibrium, r.nlhf, r.rlhf, r.uniform
        );
    }
    if rows.iter().any(|r| !r.equilibrium_converged) {
        s += "* not converged: the solver stopped above its tolerance, so this policy is not an equilibrium\n";
    }
    if !nlhf_unique {
        s += "NLHF: the maximal lottery is not unique (tied margins); shown: the maximum-entropy one\n";
    }
    s
}

/// One adapter of `ualign info`, with the limits that bound a batch.
pub fn adapter(a: &ualign::gpu::AdapterSummary) -> String {
    let kind = if a.software { "software" } else { "hardware" };
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    format!(
        "{} ({}, {}, {kind}; driver {} {})\n  max storage binding {:.0} MiB, max buffer {:.0} MiB, workgroup storage {} B, \
         invocations/workgroup {}, workgroups/dimension {}\n",
        a.name,
        a.backend,
        a.device_type,
        a.driver,
        a.driver_info,
        mib(a.max_storage_buffer_binding_size),
        mib(a.max_buffer_size),
        a.max_compute_workgroup_storage_size,
        a.max_compute_invocations_per_workgroup,
        a.max_compute_workgroups_per_dimension
    )
}

/// What `ualign sweep` did and where its results are.
pub fn sweep_summary(s: &ualign::sweep::Summary, out: &std::path::Path) -> String {
    let mut text = format!(
        "sweep: {} of {} grid cells in this run ({} computed, {} resumed) on {} in {:.1} s\nresults in {}:\n",
        s.cells,
        s.grid_cells,
        s.cells_run,
        s.cells_resumed,
        s.backend,
        s.wall_s,
        out.display()
    );
    for f in &s.files {
        let _ = writeln!(text, "  {}", f.display());
    }
    text
}

#[cfg(test)]
mod tests {
    use super::fixed;

    #[test]
    fn rounding_noise_around_zero_prints_without_a_sign() {
        assert_eq!(fixed(-0.0, 4), "0.0000");
        assert_eq!(fixed(-1e-17, 4), "0.0000");
        assert_eq!(fixed(-5.551e-17, 9), "0.000000000");
        assert_eq!(fixed(-0.00006, 4), "-0.0001");
        assert_eq!(fixed(-1.5, 2), "-1.50");
        assert_eq!(fixed(0.25, 3), "0.250");
    }
}
