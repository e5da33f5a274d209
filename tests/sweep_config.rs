//! Malformed sweep configs fail before any work with one line naming the
//! file, the line and the key.

use std::path::Path;

use ualign::sweep::Config;

fn error(text: &str) -> String {
    let msg = Config::parse(text, Path::new("bad.toml")).unwrap_err().to_string();
    assert!(!msg.contains('\n'), "one line: {msg}");
    msg
}

#[test]
fn unknown_key_is_named_with_its_line() {
    let msg = error("model = \"impartial\"\nk = [1, 2]\nrepsonses = 8\n");
    assert!(msg.starts_with("bad.toml:3: repsonses: unknown key"), "{msg}");
}

#[test]
fn empty_grid_is_refused() {
    let msg = error("model = \"impartial\"\n\nk = []\n");
    assert!(msg.starts_with("bad.toml:3: k: is an empty list"), "{msg}");
    let msg = error("k = [1]\n");
    assert!(msg.contains("model: no population source"), "{msg}");
}

/// Sweeps have the limits of the exact engine, not the GPU's (n ≤ 256, k ≤ 64),
/// which `--backend gpu` checks when it runs.
#[test]
fn sizes_beyond_the_limits_of_every_engine() {
    let msg = error("model = \"impartial\"\nresponses = [8, 9000]\n");
    assert!(msg.starts_with("bad.toml:2: responses: 9000 exceeds the limit 8192"), "{msg}");
    let msg = error("model = \"impartial\"\nk = [2, 1001]\n");
    assert!(msg.starts_with("bad.toml:2: k: 1001 exceeds the limit 1000"), "{msg}");
    let path = std::path::Path::new("ok.toml");
    assert!(ualign::sweep::Config::parse("model = \"impartial\"\nresponses = 300\nk = 100\n", path).is_ok());
}

#[test]
fn bad_values_name_the_key() {
    for (text, needle) in [
        ("model = \"mallow\"", "bad.toml:1: model: unknown model \"mallow\""),
        ("model = \"mallows\"\nphi = 1.5", "bad.toml:2: phi: 1.5 is out of range"),
        ("model = \"pl\"\nsigma = -1", "bad.toml:2: sigma: -1 is out of range"),
        ("model = \"condorcet\"\nmargin = 0.7", "bad.toml:2: margin"),
        ("model = \"pl\"\nk = 0", "bad.toml:2: k: 0 is below the minimum 1"),
        ("model = \"pl\"\nk = [1, 2]\nell = 4", "bad.toml:3: ell: ℓ = 4 exceeds k + 1 = 3"),
        ("model = \"pl\"\ndynamics = \"adam\"", "bad.toml:2: dynamics: unknown dynamics"),
        ("model = \"pl\"\neta = \"big\"", "bad.toml:2: eta: expected a number"),
        ("model = \"pl\"\nbackend = \"tpu\"", "bad.toml:2: backend: unknown backend"),
        ("model = \"pl\"\nk = [2, 2]", "bad.toml:2: k: lists a value twice"),
        ("model = \"pl\"\nk = [1, 2\n", "bad.toml:2: toml: unclosed array"),
        ("preflib = \"missing.soc\"", "bad.toml:1: preflib: missing.soc"),
    ] {
        let msg = error(text);
        assert!(msg.starts_with(needle), "{text:?} gave {msg}");
    }
}

#[test]
fn bundled_sweeps_parse() {
    for name in ["default", "nlhf_vs_k", "last_iterate", "ell_opponents", "convergence_map"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("assets/sweeps/{name}.toml"));
        let config = Config::load(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(config.cell_count_bound() >= 1);
    }
}

#[test]
fn grid_collapses_parameters_a_model_ignores() {
    let text =
        "model = [\"impartial\", \"mallows\", \"cycle\"]\nphi = [0.2, 0.8]\nresponses = 4\ntypes = [2, 3]\nk = 2\n";
    let config = Config::parse(text, Path::new("g.toml")).unwrap();
    let cells = ualign::sweep::grid::expand(&config, &|_| unreachable!());
    // impartial: 2 type counts; mallows: 2 × 2; cycle: m = n, one cell.
    assert_eq!(cells.len(), 2 + 4 + 1);
    assert!(cells.iter().enumerate().all(|(i, c)| c.index == i));
    assert!(cells.iter().filter(|c| c.model != "mallows").all(|c| c.phi.is_none()));
    assert_eq!(cells.last().unwrap().types, Some(4));
}

#[test]
fn preflib_files_are_parsed_before_any_work() {
    let dir = std::env::temp_dir().join(format!("ualign-preflib-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("broken.soc"), "# FILE NAME: x\n# NUMBER ALTERNATIVES: 3\n2: 1,2,x\n").unwrap();
    let text = "preflib = [\"broken.soc\"]\nk = 2\n";
    let msg = Config::parse(text, &dir.join("sweep.toml")).unwrap_err().to_string();
    assert!(msg.starts_with(&format!("{}:1: preflib: ", dir.join("sweep.toml").display())), "{msg}");
    assert!(msg.contains("broken.soc"), "{msg}");

    // A good file fixes n and m, and holds one population.
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/populations/sample.soc");
    let text = format!("preflib = {:?}\nk = [1, 2]\npopulations = 50\n", sample.display().to_string());
    let config = Config::parse(&text, &dir.join("sweep.toml")).unwrap();
    let cells = config.cells();
    assert_eq!(cells.len(), 2);
    assert!(cells.iter().all(|c| c.model == "preflib" && c.populations == 1 && c.responses.is_some()));
}

#[test]
fn generator_settings_are_checked_before_any_work() {
    let msg = error("model = \"condorcet\"\nresponses = 1\n");
    assert!(msg.starts_with("bad.toml:2: responses: is 1, but the condorcet model needs at least 2"), "{msg}");
}
