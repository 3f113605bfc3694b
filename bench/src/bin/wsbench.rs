//! `wsbench COMMAND [options]`: the benchmark commands `cargo xtask bench` runs. Each prints
//! JSON lines (see the crate documentation for the protocol).
//!
//! ```text
//! wsbench engine [--sizes 16,1k,64k,1m] [--libs wsengine,tungstenite,fastwebsockets]
//!                [--reps 5] [--ms 150] [--dir recv|send|both] [--kinds text,binary]
//! wsbench mask   [--sizes 64k] [--reps 5] [--ms 100]
//! wsbench deflate [--sizes 1k,64k] [--reps 5] [--ms 100] [--total 1m] [--levels 3,6]
//!                [--write-corpus DIR]
//! wsbench echo-client --target NAME=127.0.0.1:PORT ... [--target-single NAME=ADDR ...]
//!                [--target-many NAME=ADDR ...]
//!     (--target-single: a server that takes one connection at a time, left out of the
//!      many-connections run; --target-many: measured in that run only)
//!                [--sizes ...] [--kinds text,binary]
//!                [--reps 3] [--ms 700] [--max-msgs N] [--conns 100] [--conn-sizes 16]
//! wsbench serve tungstenite|fastwebsockets|wsengine|wsengine-tokio [--addr 127.0.0.1:0] [--multi-thread]
//!                [--no-fragment] [--frame-bytes 64k]
//! ```

use std::process::ExitCode;
use std::time::Duration;

use wsengine_bench::{compress, echo, echo_tokio, engine, parse_size, Args, SIZES};

fn kinds(a: &Args) -> Vec<bool> {
    match a.get("--kinds") {
        None => vec![true, false],
        Some(v) => v.split(',').map(|k| k.trim() == "text").collect(),
    }
}

fn main() -> ExitCode {
    let a = Args::from_env();
    let Some(cmd) = a.0.first().cloned() else {
        eprintln!(
            "usage: wsbench engine|mask|deflate|echo-client|serve ... (see the source's header)"
        );
        return ExitCode::FAILURE;
    };
    match cmd.as_str() {
        "engine" => {
            let dir = a.get("--dir").unwrap_or("both");
            let libs = a
                .get("--libs")
                .map(|l| l.split(',').map(str::to_string).collect())
                .unwrap_or_else(|| engine::LIBS.iter().map(|s| s.to_string()).collect());
            engine::run(&engine::Opts {
                sizes: a.sizes("--sizes", SIZES),
                libs,
                reps: a.num("--reps", 5),
                budget: Duration::from_millis(a.num("--ms", 150)),
                recv: dir != "send",
                send: dir != "recv",
                kinds: kinds(&a),
                max_steps: a.num("--steps", u64::MAX),
            });
        }
        "mask" => engine::run_mask(
            &a.sizes("--sizes", &[64 * 1024]),
            a.num("--reps", 5),
            Duration::from_millis(a.num("--ms", 100)),
        ),
        "deflate" => compress::run(&compress::Opts {
            sizes: a.sizes("--sizes", &[1024, 64 * 1024]),
            reps: a.num("--reps", 5),
            budget: Duration::from_millis(a.num("--ms", 100)),
            levels: a
                .get("--levels")
                .map(|l| l.split(',').filter_map(|v| v.trim().parse().ok()).collect())
                .unwrap_or_else(|| vec![3, 6]),
            total: a.get("--total").and_then(parse_size).unwrap_or(1 << 20),
            write_dir: a.get("--write-corpus").map(std::path::PathBuf::from),
        }),
        "echo-client" => {
            let mut targets = Vec::new();
            let single = a.all("--target-single");
            let many = a.all("--target-many");
            let all = a.all("--target").into_iter();
            for t in all
                .chain(single.iter().copied())
                .chain(many.iter().copied())
            {
                let Some((name, addr)) = t.split_once('=') else {
                    eprintln!("--target wants NAME=ADDR, got {t}");
                    return ExitCode::FAILURE;
                };
                let Ok(addr) = addr.parse() else {
                    eprintln!("bad address {addr}");
                    return ExitCode::FAILURE;
                };
                let mut target = echo::Target::new(name, addr);
                target.concurrent = !single.contains(&t);
                target.many_only = many.contains(&t);
                targets.push(target);
            }
            echo::run(&echo::Opts {
                targets,
                sizes: a.sizes("--sizes", SIZES),
                kinds: kinds(&a),
                reps: a.num("--reps", 3),
                budget: Duration::from_millis(a.num("--ms", 700)),
                max_msgs: a.num("--max-msgs", 5_000_000),
                conns: a.num("--conns", 100),
                conn_sizes: a.sizes("--conn-sizes", &[16]),
            });
        }
        "serve" => {
            let addr = a.get("--addr").unwrap_or("127.0.0.1:0");
            let r = match a.0.get(1).map(String::as_str) {
                Some("wsengine") => echo::serve_wsengine(
                    addr,
                    a.flag("--no-fragment"),
                    a.get("--frame-bytes").and_then(parse_size),
                ),
                Some("wsengine-tokio") => echo_tokio::serve(addr),
                Some("tungstenite") => echo::serve_tungstenite(addr),
                Some("fastwebsockets") => {
                    echo::serve_fastwebsockets(addr, a.flag("--multi-thread"))
                }
                other => {
                    eprintln!("serve what? {other:?} (tungstenite | fastwebsockets | wsengine | wsengine-tokio)");
                    return ExitCode::FAILURE;
                }
            };
            if let Err(e) = r {
                eprintln!("server: {e}");
                return ExitCode::FAILURE;
            }
        }
        other => {
            eprintln!("unknown command {other}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
