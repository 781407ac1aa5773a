//! What the bench commands share: where the target directory and the release binary are, and one
//! timed run of the binary through `/usr/bin/time`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// `CARGO_TARGET_DIR`, else `<crate>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(directory) => {
            let directory = PathBuf::from(directory);
            if directory.is_absolute() {
                directory
            } else {
                Path::new(env!("CARGO_MANIFEST_DIR")).join(directory)
            }
        }
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("target"),
    }
}

/// The binary cargo built for this bench (release settings), else `target/release/kubectl-potoo`,
/// built with `cargo build --release` when missing.
pub fn potoo_binary() -> PathBuf {
    if let Some(path) = option_env!("CARGO_BIN_EXE_kubectl-potoo") {
        let path = PathBuf::from(path);
        if path.exists() {
            return path;
        }
    }
    let path = target_dir().join("release").join("kubectl-potoo");
    if !path.exists() {
        eprintln!(
            "{} is missing: running cargo build --release",
            path.display()
        );
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--release", "--bin", "kubectl-potoo"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("cannot run cargo");
        assert!(status.success(), "cargo build --release failed");
    }
    path
}

// ------------------------------------------------------------------------------------------------
// Measuring

pub struct Sample {
    pub wall_seconds: f64,
    /// Peak resident set size in KiB; `None` without /usr/bin/time.
    pub max_rss_kib: Option<u64>,
    /// User + system CPU seconds; `None` without /usr/bin/time.
    pub cpu_seconds: Option<f64>,
}

/// Runs the binary once through `/usr/bin/time -f '%e %M %U %S'`, stdout to /dev/null.
pub fn measure(binary: &Path, arguments: &[String], scratch: &Path) -> Sample {
    let time = Path::new("/usr/bin/time");
    let started = Instant::now();
    let (status, stderr, timing) = if time.exists() {
        let timing_file = scratch.join(".time-output");
        let output = Command::new(time)
            .args(["-f", "%e %M %U %S", "-o"])
            .arg(&timing_file)
            .arg(binary)
            .args(arguments)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .expect("cannot run /usr/bin/time");
        let timing = fs::read_to_string(&timing_file).unwrap_or_default();
        (output.status, output.stderr, Some(timing))
    } else {
        let output = Command::new(binary)
            .args(arguments)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .expect("cannot run kubectl-potoo");
        (output.status, output.stderr, None)
    };
    let elapsed = started.elapsed().as_secs_f64();
    // Exit 0: done; 1: findings. Anything else means potoo could not do its job.
    if !matches!(status.code(), Some(0 | 1)) {
        panic!(
            "{} {} failed ({status}):\n{}",
            binary.display(),
            arguments.join(" "),
            String::from_utf8_lossy(&stderr)
        );
    }
    // The last line is time's own (earlier ones would be "Command exited with non-zero status").
    let parsed = timing.as_deref().and_then(|text| {
        let line = text.lines().last()?;
        let mut fields = line.split_whitespace();
        let wall: f64 = fields.next()?.parse().ok()?;
        let rss: u64 = fields.next()?.parse().ok()?;
        let user: f64 = fields.next()?.parse().ok()?;
        let system: f64 = fields.next()?.parse().ok()?;
        Some((wall, rss, user + system))
    });
    match parsed {
        Some((wall, rss, cpu)) => Sample {
            wall_seconds: wall,
            max_rss_kib: Some(rss),
            cpu_seconds: Some(cpu),
        },
        None => Sample {
            wall_seconds: elapsed,
            max_rss_kib: None,
            cpu_seconds: None,
        },
    }
}
