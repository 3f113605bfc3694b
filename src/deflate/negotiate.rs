//! Negotiation of permessage-deflate parameters (RFC 7692 §5, §7.1): the client's offers,
//! the server's choice and answer, and the client's check of that answer.
//!
//! Parameter names are compared ASCII case-insensitively; values arrive unquoted (the header
//! parser removes quotes, which §7.1 allows around any value). A window-bits value must be
//! exactly one of `8`..`15`: no sign, no leading zero, no empty value.

use super::codec::{PerMessageDeflate, StreamParams, NAME};
use super::DeflateConfig;
use crate::extension::{Extension, ExtensionOffer, ExtensionParam};
use crate::handshake::HandshakeError;

const SERVER_NO_CONTEXT_TAKEOVER: &str = "server_no_context_takeover";
const CLIENT_NO_CONTEXT_TAKEOVER: &str = "client_no_context_takeover";
const SERVER_MAX_WINDOW_BITS: &str = "server_max_window_bits";
const CLIENT_MAX_WINDOW_BITS: &str = "client_max_window_bits";
const MAX_WINDOW_BITS: u8 = 15;

/// The parameters of one offer or answer, checked for syntax and duplicates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Params {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    /// Always has a value when present.
    server_max_window_bits: Option<u8>,
    /// `Some(None)`: present without a value (allowed in an offer only).
    client_max_window_bits: Option<Option<u8>>,
}

/// Parses one element's parameters, rejecting unknown and duplicate names and bad values.
fn parse_params(params: &[ExtensionParam]) -> Result<Params, String> {
    let mut p = Params::default();
    let mut seen = [false; 4];
    for param in params {
        let name = param.name.to_ascii_lowercase();
        let index = match name.as_str() {
            SERVER_NO_CONTEXT_TAKEOVER => 0,
            CLIENT_NO_CONTEXT_TAKEOVER => 1,
            SERVER_MAX_WINDOW_BITS => 2,
            CLIENT_MAX_WINDOW_BITS => 3,
            _ => return Err(format!("unknown parameter {:?}", param.name)),
        };
        if std::mem::replace(&mut seen[index], true) {
            return Err(format!("duplicate parameter {name}"));
        }
        let value = param.value.as_deref();
        match index {
            0 | 1 => {
                if let Some(v) = value {
                    return Err(format!("{name} takes no value (got {v:?})"));
                }
                if index == 0 {
                    p.server_no_context_takeover = true;
                } else {
                    p.client_no_context_takeover = true;
                }
            }
            2 => match value {
                None => return Err(format!("{name} needs a value")),
                Some(v) => p.server_max_window_bits = Some(window_bits(&name, v)?),
            },
            _ => {
                p.client_max_window_bits = Some(match value {
                    None => None,
                    Some(v) => Some(window_bits(&name, v)?),
                })
            }
        }
    }
    Ok(p)
}

/// A window-bits value: a decimal integer 8..=15 without leading zeros (RFC 7692 §7.1.2).
fn window_bits(name: &str, value: &str) -> Result<u8, String> {
    match value {
        "8" | "9" | "10" | "11" | "12" | "13" | "14" | "15" => value
            .parse()
            .map_err(|_| format!("{name}={value:?} is not an integer 8..=15")),
        _ => Err(format!("{name}={value:?} is not an integer 8..=15")),
    }
}

fn is_deflate(element: &ExtensionOffer) -> bool {
    element.name.eq_ignore_ascii_case(NAME)
}

fn flag(name: &str) -> ExtensionParam {
    ExtensionParam {
        name: name.into(),
        value: None,
    }
}

fn valued(name: &str, value: u8) -> ExtensionParam {
    ExtensionParam {
        name: name.into(),
        value: Some(value.to_string()),
    }
}

fn clamp_bits(bits: u8) -> u8 {
    bits.clamp(8, MAX_WINDOW_BITS)
}

fn build(params: &Params) -> ExtensionOffer {
    let mut out = Vec::new();
    if params.server_no_context_takeover {
        out.push(flag(SERVER_NO_CONTEXT_TAKEOVER));
    }
    if params.client_no_context_takeover {
        out.push(flag(CLIENT_NO_CONTEXT_TAKEOVER));
    }
    if let Some(bits) = params.server_max_window_bits {
        out.push(valued(SERVER_MAX_WINDOW_BITS, bits));
    }
    match params.client_max_window_bits {
        Some(Some(bits)) => out.push(valued(CLIENT_MAX_WINDOW_BITS, bits)),
        Some(None) => out.push(flag(CLIENT_MAX_WINDOW_BITS)),
        None => {}
    }
    ExtensionOffer {
        name: NAME.into(),
        params: out,
    }
}

/// The client's offers, most preferred first, as parameter sets.
///
/// 1. Exactly the configuration: `server_no_context_takeover` and `server_max_window_bits=N`
///    if configured (requests to the server), `client_no_context_takeover` if configured, and
///    always `client_max_window_bits` — with the configured value, or bare to say we support
///    a limit chosen by the server. With the default configuration this is
///    `permessage-deflate; client_max_window_bits`, what browsers send.
/// 2. Only if the first one requests something of the server: the same without those
///    requests. They shape only the server's compressor: our inflater costs the same memory
///    whatever the server does (miniz_oxide always keeps a 32 KiB history, and we keep the
///    inflater between messages), so a server that cannot honour them (zlib, for one, cannot
///    compress with an 8-bit window) is better answered with compression than without.
fn client_offer_params(cfg: &DeflateConfig) -> Vec<Params> {
    let own = Params {
        client_no_context_takeover: cfg.client_no_context_takeover,
        client_max_window_bits: Some(cfg.client_max_window_bits.map(clamp_bits)),
        ..Params::default()
    };
    let full = Params {
        server_no_context_takeover: cfg.server_no_context_takeover,
        server_max_window_bits: cfg.server_max_window_bits.map(clamp_bits),
        ..own
    };
    if full == own {
        vec![full]
    } else {
        vec![full, own]
    }
}

/// Client: the offers to send, in preference order (see `client_offer_params`).
pub(crate) fn client_offers(cfg: &DeflateConfig) -> Vec<ExtensionOffer> {
    client_offer_params(cfg).iter().map(build).collect()
}

/// The directions a client ends up with when `answer` accepts `offer`:
/// `(outgoing, incoming)`, or why `answer` is no valid answer to `offer` (§7.1).
fn answer_to(offer: &Params, answer: &Params) -> Result<(StreamParams, StreamParams), String> {
    if offer.server_no_context_takeover && !answer.server_no_context_takeover {
        return Err("server_no_context_takeover was requested but not accepted".into());
    }
    let server_bits = match (offer.server_max_window_bits, answer.server_max_window_bits) {
        (Some(_), None) => {
            return Err("server_max_window_bits was requested but not accepted".into())
        }
        (Some(asked), Some(got)) if got > asked => {
            return Err(format!(
                "server_max_window_bits={got} exceeds the {asked} requested"
            ))
        }
        // Without a request the server may still announce a smaller window of its own.
        (_, got) => got.unwrap_or(MAX_WINDOW_BITS),
    };
    let client_bits = match (offer.client_max_window_bits, answer.client_max_window_bits) {
        (_, Some(None)) => return Err("client_max_window_bits needs a value in an answer".into()),
        (None, Some(Some(_))) => {
            return Err("client_max_window_bits in the answer, but it was not offered".into())
        }
        // Our own value is a promise we keep even if the server allows more (§7.1.2.2).
        (Some(ours), Some(Some(got))) => got.min(ours.unwrap_or(MAX_WINDOW_BITS)),
        (Some(ours), None) => ours.unwrap_or(MAX_WINDOW_BITS),
        (None, None) => MAX_WINDOW_BITS,
    };
    let outgoing = StreamParams {
        no_context_takeover: offer.client_no_context_takeover || answer.client_no_context_takeover,
        max_window_bits: client_bits,
    };
    let incoming = StreamParams {
        no_context_takeover: answer.server_no_context_takeover,
        max_window_bits: server_bits,
    };
    Ok((outgoing, incoming))
}

/// Client: judges the server's answer (every element of its `Sec-WebSocket-Extensions`
/// headers) against our offers. `Ok(None)` when the server accepted no extension. The answer
/// is accepted if it is a valid answer to any of our offers (the server picks one).
pub(crate) fn client_accept(
    cfg: &DeflateConfig,
    answered: &[ExtensionOffer],
) -> Result<Option<Box<dyn Extension>>, HandshakeError> {
    let bad = HandshakeError::BadExtension;
    if let Some(other) = answered.iter().find(|e| !is_deflate(e)) {
        return Err(bad(format!("{:?} was not offered", other.name)));
    }
    let answer = match answered {
        [] => return Ok(None),
        [answer] => answer,
        _ => return Err(bad(format!("{NAME} answered {} times", answered.len()))),
    };
    let answer = parse_params(&answer.params).map_err(|e| bad(format!("{NAME}: {e}")))?;
    let mut first_error = None;
    for offer in client_offer_params(cfg) {
        match answer_to(&offer, &answer) {
            Ok((outgoing, incoming)) => {
                let ext = PerMessageDeflate::new(cfg, outgoing, incoming)
                    .map_err(|e| bad(format!("{NAME}: {e}")))?;
                return Ok(Some(Box::new(ext)));
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(bad(format!("{NAME}: {}", first_error.unwrap_or_default())))
}

/// Server: the answer to one well-formed offer, and our `(outgoing, incoming)` directions.
/// Every well-formed offer can be accepted, since we can compress with any window.
fn accept_offer(cfg: &DeflateConfig, offer: &Params) -> (Params, StreamParams, StreamParams) {
    // The client's request binds us; our configuration may restrict further.
    let server_bits = match (offer.server_max_window_bits, cfg.server_max_window_bits) {
        (None, None) => None,
        (a, b) => Some(clamp_bits(
            a.unwrap_or(MAX_WINDOW_BITS)
                .min(b.unwrap_or(MAX_WINDOW_BITS)),
        )),
    };
    // We can only limit the client's window if it said it supports that; otherwise we accept
    // its full window (our inflater takes any window at the same cost).
    let client_bits = match (offer.client_max_window_bits, cfg.client_max_window_bits) {
        (Some(hint), Some(limit)) => Some(clamp_bits(limit.min(hint.unwrap_or(MAX_WINDOW_BITS)))),
        _ => None,
    };
    let answer = Params {
        server_no_context_takeover: offer.server_no_context_takeover
            || cfg.server_no_context_takeover,
        client_no_context_takeover: offer.client_no_context_takeover
            || cfg.client_no_context_takeover,
        server_max_window_bits: server_bits,
        client_max_window_bits: client_bits.map(Some),
    };
    let outgoing = StreamParams {
        no_context_takeover: answer.server_no_context_takeover,
        max_window_bits: server_bits.unwrap_or(MAX_WINDOW_BITS),
    };
    let incoming = StreamParams {
        no_context_takeover: answer.client_no_context_takeover,
        // Without our limit the client still keeps the promise of its own value, if any.
        max_window_bits: client_bits
            .or(offer.client_max_window_bits.flatten())
            .unwrap_or(MAX_WINDOW_BITS),
    };
    (answer, outgoing, incoming)
}

/// Server: accepts the first well-formed permessage-deflate offer (other extensions are
/// ignored; malformed offers are declined and the next one considered) and returns the
/// answer element with the negotiated extension, or `None` to decline them all.
pub(crate) fn server_accept(
    cfg: &DeflateConfig,
    offers: &[ExtensionOffer],
) -> Option<(ExtensionOffer, Box<dyn Extension>)> {
    offers
        .iter()
        .filter(|offer| is_deflate(offer))
        .filter_map(|offer| parse_params(&offer.params).ok())
        .find_map(|offer| {
            let (answer, outgoing, incoming) = accept_offer(cfg, &offer);
            let ext = PerMessageDeflate::new(cfg, outgoing, incoming).ok()?;
            Some((build(&answer), Box::new(ext) as Box<dyn Extension>))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses `name; a; b=1, other` the simple way (no quotes), for test inputs.
    fn elements(header: &str) -> Vec<ExtensionOffer> {
        if header.trim().is_empty() {
            return Vec::new();
        }
        header
            .split(',')
            .map(|element| {
                let mut parts = element.split(';').map(str::trim);
                let name = parts.next().unwrap().to_string();
                let params = parts
                    .map(|p| match p.split_once('=') {
                        Some((n, v)) => ExtensionParam {
                            name: n.into(),
                            value: Some(v.into()),
                        },
                        None => ExtensionParam {
                            name: p.into(),
                            value: None,
                        },
                    })
                    .collect();
                ExtensionOffer { name, params }
            })
            .collect()
    }

    fn header(offers: &[ExtensionOffer]) -> String {
        offers
            .iter()
            .map(|o| o.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn cfg() -> DeflateConfig {
        DeflateConfig::default()
    }

    /// The client's negotiated `(outgoing, incoming)` for `answer`, through the extension's
    /// `Debug` (the trait object hides the concrete type).
    fn client(cfg: &DeflateConfig, answer: &str) -> Result<String, String> {
        match client_accept(cfg, &elements(answer)) {
            Ok(Some(ext)) => Ok(format!("{ext:?}")),
            Ok(None) => Ok("none".into()),
            Err(HandshakeError::BadExtension(reason)) => Err(reason),
            Err(other) => panic!("unexpected error {other:?}"),
        }
    }

    fn dirs(out_nct: bool, out_bits: u8, in_nct: bool, in_bits: u8) -> String {
        format!(
            "outgoing: {:?}, incoming: {:?}",
            StreamParams {
                no_context_takeover: out_nct,
                max_window_bits: out_bits
            },
            StreamParams {
                no_context_takeover: in_nct,
                max_window_bits: in_bits
            },
        )
    }

    fn client_ok(cfg: &DeflateConfig, answer: &str, expected: String) {
        let got = client(cfg, answer).unwrap_or_else(|e| panic!("{answer:?} rejected: {e}"));
        assert!(
            got.contains(&expected),
            "{answer:?}: {got} lacks {expected}"
        );
    }

    fn client_err(cfg: &DeflateConfig, answer: &str, reason_contains: &str) {
        match client(cfg, answer) {
            Err(reason) => assert!(
                reason.contains(reason_contains),
                "{answer:?}: reason {reason:?} lacks {reason_contains:?}"
            ),
            Ok(ext) => panic!("{answer:?} accepted as {ext}"),
        }
    }

    /// The server's answer header and `(outgoing, incoming)`, or `None` if it declined.
    fn server(cfg: &DeflateConfig, offers: &str) -> Option<(String, String)> {
        server_accept(cfg, &elements(offers))
            .map(|(answer, ext)| (answer.to_string(), format!("{ext:?}")))
    }

    // ---- client offers ----

    #[test]
    fn default_offer_is_what_browsers_send() {
        assert_eq!(
            header(&client_offers(&cfg())),
            "permessage-deflate; client_max_window_bits"
        );
    }

    #[test]
    fn offer_carries_every_configured_parameter() {
        let c = DeflateConfig {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            server_max_window_bits: Some(10),
            client_max_window_bits: Some(12),
            ..cfg()
        };
        assert_eq!(
            header(&client_offers(&c)),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=10; client_max_window_bits=12, \
             permessage-deflate; client_no_context_takeover; client_max_window_bits=12"
        );
    }

    #[test]
    fn offer_without_server_requests_has_no_fallback() {
        let c = DeflateConfig {
            client_no_context_takeover: true,
            ..cfg()
        };
        assert_eq!(
            header(&client_offers(&c)),
            "permessage-deflate; client_no_context_takeover; client_max_window_bits"
        );
    }

    #[test]
    fn offer_with_server_window_has_a_fallback_without_it() {
        let c = DeflateConfig {
            server_max_window_bits: Some(9),
            ..cfg()
        };
        assert_eq!(
            header(&client_offers(&c)),
            "permessage-deflate; server_max_window_bits=9; client_max_window_bits, \
             permessage-deflate; client_max_window_bits"
        );
    }

    // ---- client: judging the answer ----

    #[test]
    fn client_no_answer_means_no_extension() {
        assert_eq!(client(&cfg(), "").unwrap(), "none");
    }

    #[test]
    fn client_plain_answer_gives_full_windows_with_context_takeover() {
        client_ok(&cfg(), "permessage-deflate", dirs(false, 15, false, 15));
    }

    #[test]
    fn client_answer_name_and_params_are_case_insensitive() {
        client_ok(
            &cfg(),
            "Permessage-Deflate; Server_No_Context_Takeover",
            dirs(false, 15, true, 15),
        );
    }

    #[test]
    fn client_answer_with_both_no_context_takeover_applies_to_each_direction() {
        client_ok(
            &cfg(),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
            dirs(true, 15, true, 15),
        );
    }

    #[test]
    fn client_answer_with_client_window_limits_our_compressor() {
        client_ok(
            &cfg(),
            "permessage-deflate; client_max_window_bits=9",
            dirs(false, 9, false, 15),
        );
    }

    #[test]
    fn client_answer_with_server_window_unrequested_is_accepted() {
        client_ok(
            &cfg(),
            "permessage-deflate; server_max_window_bits=10",
            dirs(false, 15, false, 10),
        );
    }

    #[test]
    fn client_keeps_its_offered_window_when_the_answer_omits_it() {
        let c = DeflateConfig {
            client_max_window_bits: Some(11),
            ..cfg()
        };
        client_ok(&c, "permessage-deflate", dirs(false, 11, false, 15));
    }

    #[test]
    fn client_keeps_its_smaller_window_when_the_answer_allows_more() {
        let c = DeflateConfig {
            client_max_window_bits: Some(11),
            ..cfg()
        };
        client_ok(
            &c,
            "permessage-deflate; client_max_window_bits=13",
            dirs(false, 11, false, 15),
        );
    }

    #[test]
    fn client_takes_the_smaller_client_window_of_the_answer() {
        let c = DeflateConfig {
            client_max_window_bits: Some(11),
            ..cfg()
        };
        client_ok(
            &c,
            "permessage-deflate; client_max_window_bits=8",
            dirs(false, 8, false, 15),
        );
    }

    #[test]
    fn client_keeps_its_own_no_context_takeover_when_the_answer_omits_it() {
        let c = DeflateConfig {
            client_no_context_takeover: true,
            ..cfg()
        };
        client_ok(&c, "permessage-deflate", dirs(true, 15, false, 15));
    }

    #[test]
    fn client_accepts_requested_server_window_answered_smaller() {
        let c = DeflateConfig {
            server_max_window_bits: Some(12),
            ..cfg()
        };
        client_ok(
            &c,
            "permessage-deflate; server_max_window_bits=10",
            dirs(false, 15, false, 10),
        );
    }

    #[test]
    fn client_falls_back_when_the_server_window_exceeds_the_request() {
        // Invalid for the first offer, valid for the fallback, which requested nothing.
        let c = DeflateConfig {
            server_max_window_bits: Some(10),
            ..cfg()
        };
        client_ok(
            &c,
            "permessage-deflate; server_max_window_bits=12",
            dirs(false, 15, false, 12),
        );
    }

    #[test]
    fn client_falls_back_when_requested_server_window_is_not_answered() {
        let c = DeflateConfig {
            server_max_window_bits: Some(10),
            ..cfg()
        };
        client_ok(&c, "permessage-deflate", dirs(false, 15, false, 15));
    }

    #[test]
    fn answer_with_larger_server_window_than_requested_is_invalid_for_that_offer() {
        let offer = Params {
            server_max_window_bits: Some(10),
            ..Params::default()
        };
        let answer = Params {
            server_max_window_bits: Some(12),
            ..Params::default()
        };
        let e = answer_to(&offer, &answer).unwrap_err();
        assert!(e.contains("exceeds"), "{e}");
    }

    #[test]
    fn answer_without_requested_server_window_is_invalid_for_that_offer() {
        let offer = Params {
            server_max_window_bits: Some(10),
            ..Params::default()
        };
        let e = answer_to(&offer, &Params::default()).unwrap_err();
        assert!(e.contains("not accepted"), "{e}");
    }

    #[test]
    fn answer_without_requested_server_no_context_takeover_is_invalid_for_that_offer() {
        let offer = Params {
            server_no_context_takeover: true,
            ..Params::default()
        };
        let e = answer_to(&offer, &Params::default()).unwrap_err();
        assert!(e.contains("server_no_context_takeover"), "{e}");
    }

    #[test]
    fn client_rejects_an_unknown_extension() {
        client_err(&cfg(), "x-webkit-deflate-frame", "was not offered");
        client_err(&cfg(), "permessage-deflate, x-foo", "was not offered");
    }

    #[test]
    fn client_rejects_two_deflate_answers() {
        client_err(
            &cfg(),
            "permessage-deflate, permessage-deflate",
            "answered 2 times",
        );
    }

    #[test]
    fn client_rejects_an_unknown_parameter() {
        client_err(&cfg(), "permessage-deflate; mode=fast", "unknown parameter");
    }

    #[test]
    fn client_rejects_a_duplicate_parameter() {
        client_err(
            &cfg(),
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "duplicate",
        );
        client_err(
            &cfg(),
            "permessage-deflate; server_max_window_bits=10; Server_Max_Window_Bits=10",
            "duplicate",
        );
    }

    #[test]
    fn client_rejects_bad_window_values() {
        for v in ["7", "16", "08", "", "+9", "9.0", "0x9", " 9", "1O"] {
            client_err(
                &cfg(),
                &format!("permessage-deflate; server_max_window_bits={v}"),
                "not an integer 8..=15",
            );
            client_err(
                &cfg(),
                &format!("permessage-deflate; client_max_window_bits={v}"),
                "not an integer 8..=15",
            );
        }
    }

    #[test]
    fn client_rejects_a_value_on_no_context_takeover() {
        client_err(
            &cfg(),
            "permessage-deflate; server_no_context_takeover=1",
            "takes no value",
        );
        client_err(
            &cfg(),
            "permessage-deflate; client_no_context_takeover=",
            "takes no value",
        );
    }

    #[test]
    fn client_rejects_server_window_without_value() {
        client_err(
            &cfg(),
            "permessage-deflate; server_max_window_bits",
            "needs a value",
        );
    }

    #[test]
    fn client_rejects_client_window_without_value() {
        client_err(
            &cfg(),
            "permessage-deflate; client_max_window_bits",
            "needs a value",
        );
    }

    #[test]
    fn client_rejects_unoffered_client_window_in_answer() {
        // Every offer we make carries client_max_window_bits, so test the rule directly.
        let offer = Params::default();
        let answer = Params {
            client_max_window_bits: Some(Some(10)),
            ..Params::default()
        };
        let e = answer_to(&offer, &answer).unwrap_err();
        assert!(e.contains("not offered"), "{e}");
    }

    // ---- server ----

    #[test]
    fn server_accepts_the_browser_offer_with_a_bare_answer() {
        let (answer, ext) = server(&cfg(), "permessage-deflate; client_max_window_bits").unwrap();
        assert_eq!(answer, "permessage-deflate");
        assert!(ext.contains(&dirs(false, 15, false, 15)), "{ext}");
    }

    #[test]
    fn server_declines_when_nothing_is_offered() {
        assert_eq!(server(&cfg(), ""), None);
    }

    #[test]
    fn server_ignores_other_extensions() {
        let (answer, _) = server(&cfg(), "x-foo; a=1, permessage-deflate").unwrap();
        assert_eq!(answer, "permessage-deflate");
        assert_eq!(server(&cfg(), "x-foo, x-webkit-deflate-frame"), None);
    }

    #[test]
    fn server_honours_requested_no_context_takeover() {
        let (answer, ext) = server(
            &cfg(),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
        )
        .unwrap();
        assert_eq!(
            answer,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
        );
        assert!(ext.contains(&dirs(true, 15, true, 15)), "{ext}");
    }

    #[test]
    fn server_configured_no_context_takeover_is_always_answered() {
        let c = DeflateConfig {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            ..cfg()
        };
        let (answer, ext) = server(&c, "permessage-deflate").unwrap();
        assert_eq!(
            answer,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
        );
        assert!(ext.contains(&dirs(true, 15, true, 15)), "{ext}");
    }

    #[test]
    fn server_honours_requested_server_window() {
        let (answer, ext) =
            server(&cfg(), "permessage-deflate; server_max_window_bits=10").unwrap();
        assert_eq!(answer, "permessage-deflate; server_max_window_bits=10");
        assert!(ext.contains(&dirs(false, 10, false, 15)), "{ext}");
    }

    #[test]
    fn server_configured_window_is_answered_and_can_only_shrink_the_request() {
        let c = DeflateConfig {
            server_max_window_bits: Some(12),
            ..cfg()
        };
        let (answer, _) = server(&c, "permessage-deflate").unwrap();
        assert_eq!(answer, "permessage-deflate; server_max_window_bits=12");
        let (answer, _) = server(&c, "permessage-deflate; server_max_window_bits=14").unwrap();
        assert_eq!(answer, "permessage-deflate; server_max_window_bits=12");
        let (answer, ext) = server(&c, "permessage-deflate; server_max_window_bits=9").unwrap();
        assert_eq!(answer, "permessage-deflate; server_max_window_bits=9");
        assert!(ext.contains(&dirs(false, 9, false, 15)), "{ext}");
    }

    #[test]
    fn server_limits_the_client_window_when_the_client_supports_it() {
        let c = DeflateConfig {
            client_max_window_bits: Some(10),
            ..cfg()
        };
        let (answer, ext) = server(&c, "permessage-deflate; client_max_window_bits").unwrap();
        assert_eq!(answer, "permessage-deflate; client_max_window_bits=10");
        assert!(ext.contains(&dirs(false, 15, false, 10)), "{ext}");
        let (answer, _) = server(&c, "permessage-deflate; client_max_window_bits=9").unwrap();
        assert_eq!(answer, "permessage-deflate; client_max_window_bits=9");
    }

    #[test]
    fn server_cannot_limit_a_client_that_does_not_support_it() {
        let c = DeflateConfig {
            client_max_window_bits: Some(10),
            ..cfg()
        };
        let (answer, ext) = server(&c, "permessage-deflate").unwrap();
        assert_eq!(answer, "permessage-deflate");
        assert!(ext.contains(&dirs(false, 15, false, 15)), "{ext}");
    }

    #[test]
    fn server_trusts_the_client_window_hint() {
        let (answer, ext) =
            server(&cfg(), "permessage-deflate; client_max_window_bits=11").unwrap();
        assert_eq!(answer, "permessage-deflate");
        assert!(ext.contains(&dirs(false, 15, false, 11)), "{ext}");
    }

    #[test]
    fn server_falls_back_to_the_second_offer_when_the_first_is_malformed() {
        let (answer, _) = server(
            &cfg(),
            "permessage-deflate; server_max_window_bits=16, \
             permessage-deflate; server_no_context_takeover",
        )
        .unwrap();
        assert_eq!(answer, "permessage-deflate; server_no_context_takeover");
    }

    #[test]
    fn server_prefers_the_first_acceptable_offer() {
        let (answer, _) = server(
            &cfg(),
            "permessage-deflate; server_max_window_bits=10, permessage-deflate",
        )
        .unwrap();
        assert_eq!(answer, "permessage-deflate; server_max_window_bits=10");
    }

    #[test]
    fn server_declines_malformed_offers() {
        for offer in [
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
            "permessage-deflate; server_max_window_bits=7",
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; server_max_window_bits=08",
            "permessage-deflate; server_max_window_bits=",
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; client_max_window_bits=7",
            "permessage-deflate; client_max_window_bits=16",
            "permessage-deflate; client_max_window_bits=08",
            "permessage-deflate; client_max_window_bits=",
            "permessage-deflate; server_no_context_takeover=true",
            "permessage-deflate; client_no_context_takeover=",
            "permessage-deflate; x-unknown",
        ] {
            assert_eq!(server(&cfg(), offer), None, "{offer} was accepted");
        }
    }

    #[test]
    fn server_answer_round_trips_through_client_accept() {
        // Whatever the server answers to our offers, our client accepts it, with mirrored
        // directions.
        let configs = [
            cfg(),
            DeflateConfig {
                server_no_context_takeover: true,
                client_max_window_bits: Some(9),
                ..cfg()
            },
            DeflateConfig {
                client_no_context_takeover: true,
                server_max_window_bits: Some(8),
                ..cfg()
            },
        ];
        for client_cfg in &configs {
            for server_cfg in &configs {
                let offers = client_offers(client_cfg);
                let (answer, server_ext) = server_accept(server_cfg, &offers).unwrap();
                let client_ext = client_accept(client_cfg, std::slice::from_ref(&answer))
                    .unwrap_or_else(|e| panic!("{answer} rejected: {e}"))
                    .unwrap();
                let s = format!("{server_ext:?}");
                let c = format!("{client_ext:?}");
                let field = |dbg: &str, name: &str| {
                    let start = dbg.find(name).unwrap();
                    let end = start + dbg[start..].find('}').unwrap();
                    dbg[start + name.len()..end].to_string()
                };
                assert_eq!(field(&s, "outgoing"), field(&c, "incoming"), "{answer}");
                assert_eq!(field(&s, "incoming"), field(&c, "outgoing"), "{answer}");
            }
        }
    }
}
