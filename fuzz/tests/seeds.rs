//! Every committed seed runs through its target's driver without a failed invariant (on
//! stable, without libFuzzer: what `cargo xtask test fuzz` checks before fuzzing).

use std::fs;
use std::path::PathBuf;

use wsengine::Role;

/// A target's driver.
type Driver = fn(&[u8]);

#[test]
fn every_seed_passes_its_target() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let targets: [(&str, Driver); 6] = [
        ("client", |d| wsengine_fuzz::conn::drive(Role::Client, d)),
        ("server", |d| wsengine_fuzz::conn::drive(Role::Server, d)),
        ("handshake_request", wsengine_fuzz::handshake::request),
        ("handshake_response", wsengine_fuzz::handshake::response),
        ("deflate", wsengine_fuzz::deflate::drive),
        ("close_frame", wsengine_fuzz::close::check),
    ];
    for (target, run) in targets {
        let mut n = 0;
        for entry in fs::read_dir(root.join(target)).unwrap() {
            let path = entry.unwrap().path();
            eprintln!("{}", path.display());
            run(&fs::read(&path).unwrap());
            n += 1;
        }
        assert!(n > 0, "no seeds for {target}");
    }
}
