//! `stratus server --config FILE`: the file sets what flags and variables leave unset, and a
//! mistyped key stops the server before it starts.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn wait_for(path: &std::path::Path) -> bool {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if path.exists() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn flags_override_the_file_which_overrides_defaults() {
    let dir = tempfile::tempdir().expect("tempdir");
    let from_file = dir.path().join("from-file");
    let from_flag = dir.path().join("from-flag");
    let config = dir.path().join("stratus.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\nlisten = \"127.0.0.1:0\"\ndrain_deadline = \"2s\"\n",
            from_file.display().to_string()
        ),
    )
    .expect("write config");

    for (extra, expected_dir) in [(None, &from_file), (Some(&from_flag), &from_flag)] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_stratus"));
        command
            .arg("server")
            .arg("--config")
            .arg(&config)
            .env_remove("STRATUS_DATA_DIR")
            .env_remove("STRATUS_LISTEN");
        if let Some(flag_dir) = extra {
            command.arg("--data-dir").arg(flag_dir);
        }
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let started = wait_for(&expected_dir.join("server.json"));
        let _ = child.kill();
        let _ = child.wait();
        assert!(started, "server did not use {}", expected_dir.display());
    }
}

#[test]
fn unknown_keys_and_bad_values_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("stratus.toml");
    for (text, named) in [
        ("lisen = \"127.0.0.1:0\"\n", "lisen"),
        ("drain_deadline = \"soon\"\n", "soon"),
    ] {
        std::fs::write(&config, text).expect("write config");
        let out = Command::new(env!("CARGO_BIN_EXE_stratus"))
            .arg("server")
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .output()
            .expect("run");
        assert!(!out.status.success(), "a bad config must stop the server");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(named),
            "the error names {named:?}: {stderr}"
        );
        assert!(!dir.path().join("data").join("server.json").exists());
    }
}
