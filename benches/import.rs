//! OpenAPI import of GitHub's REST description and the largest fixtures, and the
//! same files through Node's `@apidevtools/swagger-parser` `dereference` for
//! comparison.
//!
//! Run with: benches/import.sh (installs swagger-parser, fetches GitHub's
//! description into the bench cache, then runs this bench);
//! `cargo bench -p waygate-core --bench import` alone skips GitHub and the comparison.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use waygate_core::import::{self, ImportOptions};

/// The allocator of the `waygate` binary, which runs `POST /integrations/import`
/// and `waygate import` (decision 37): the figures are what those users get.
/// An embedded application chooses its own; decision 129 gives the system
/// allocator's figures beside these.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The fixtures, under `shared/fixtures/openapi`.
const FIXTURES: [(&str, &str); 3] = [
    ("slack", "slack/slack_web_openapi_v2.json"),
    (
        "digitalocean",
        "digitalocean/specification/DigitalOcean-public.v2.yaml",
    ),
    ("twilio", "twilio/twilio_api_v2010.yaml"),
];

/// Runs of each side in the comparison table (after two warm-ups), reported as medians.
const RUNS: usize = 10;

/// The specs to time: GitHub's when `benches/import.sh` fetched it, then the fixtures.
fn specs() -> Vec<(&'static str, PathBuf)> {
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/openapi");
    let github = std::env::var_os("WAYGATE_GITHUB_SPEC").map(|p| ("github", PathBuf::from(p)));
    github
        .into_iter()
        .chain(
            FIXTURES
                .iter()
                .map(|(name, file)| (*name, fixtures.join(file))),
        )
        .collect()
}

fn import_once(path: &PathBuf) -> usize {
    let result = import::from_file(path, &ImportOptions::default()).expect("fixture imports");
    result.integration.actions.len()
}

fn bench_import(c: &mut Criterion) {
    let mut group = c.benchmark_group("import");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));
    for (name, path) in specs() {
        group.bench_function(name, |b| b.iter(|| import_once(&path)));
    }
    group.finish();
}

fn median_ms(mut run: impl FnMut()) -> f64 {
    run();
    run();
    let mut times: Vec<f64> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn swagger_parser_ms(script: &str, path: &PathBuf) -> Result<f64, String> {
    let out = Command::new("node")
        .arg(script)
        .arg(path)
        .arg(RUNS.to_string())
        .output()
        .map_err(|e| format!("cannot run node: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_owned());
    }
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|e| format!("unexpected output: {e}"))
}

/// The comparison table: median wall time of one import per spec, both tools.
fn compare() {
    let script = std::env::var("WAYGATE_SWAGGER_PARSER_SCRIPT").ok();
    println!("\nimport vs swagger-parser dereference (median of {RUNS} runs, ms)");
    println!(
        "{:<14} {:>8} {:>12} {:>16} {:>8}",
        "spec", "actions", "waygate", "swagger-parser", "ratio"
    );
    if std::env::var_os("WAYGATE_GITHUB_SPEC").is_none() {
        println!("{:<14} not run (benches/import.sh fetches it)", "github");
    }
    for (name, path) in specs() {
        let actions = import_once(&path);
        let ours = median_ms(|| {
            std::hint::black_box(import_once(&path));
        });
        let theirs = match &script {
            Some(script) => swagger_parser_ms(script, &path),
            None => Err("not run (use benches/import.sh)".into()),
        };
        match theirs {
            Ok(theirs) => println!(
                "{name:<14} {actions:>8} {ours:>12.2} {theirs:>16.2} {:>7.1}x",
                theirs / ours
            ),
            Err(why) => println!("{name:<14} {actions:>8} {ours:>12.2} {why:>16}"),
        }
    }
}

criterion_group!(benches, bench_import);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    compare();
}
