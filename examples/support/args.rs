//! Command-line helpers shared by the examples (included with `#[path]`).
#![allow(dead_code)]

use wsengine::{Config, DeflateConfig};

/// The value after `name`, if given.
pub fn arg<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

/// permessage-deflate from flags: on unless `--no-deflate`; `--client-no-context-takeover`,
/// `--server-no-context-takeover`, `--client-max-window-bits N`, `--server-max-window-bits N`.
pub fn config_from_args(args: &[String]) -> Config {
    let mut config = Config::default();
    if args.iter().any(|a| a == "--no-deflate") {
        return config;
    }
    let bits = |name: &str| arg(args, name).map(|v| v.parse::<u8>().expect("window bits 8..=15"));
    config.deflate = Some(DeflateConfig {
        client_no_context_takeover: args.iter().any(|a| a == "--client-no-context-takeover"),
        server_no_context_takeover: args.iter().any(|a| a == "--server-no-context-takeover"),
        client_max_window_bits: bits("--client-max-window-bits"),
        server_max_window_bits: bits("--server-max-window-bits"),
        ..DeflateConfig::default()
    });
    config
}
