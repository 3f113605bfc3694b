//! Runs inputs through a target's driver without libFuzzer, on stable, and times each:
//! `cargo run --release --example replay -- TARGET FILE...` (to debug a crash or a slow unit).

use std::time::Instant;

use wsengine::Role;

fn main() {
    let mut args = std::env::args().skip(1);
    let target = args.next().expect("usage: replay TARGET FILE...");
    let run: fn(&[u8]) = match target.as_str() {
        "client" => |d| wsengine_fuzz::conn::drive(Role::Client, d),
        "server" => |d| wsengine_fuzz::conn::drive(Role::Server, d),
        "handshake_request" => wsengine_fuzz::handshake::request,
        "handshake_response" => wsengine_fuzz::handshake::response,
        "deflate" => wsengine_fuzz::deflate::drive,
        "close_frame" => wsengine_fuzz::close::check,
        t => panic!("unknown target {t}"),
    };
    for file in args {
        let data = std::fs::read(&file).unwrap();
        let t = Instant::now();
        run(&data);
        println!("{file}: {} bytes in {:?}", data.len(), t.elapsed());
    }
}
