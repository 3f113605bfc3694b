//! TCP on `wasi:sockets`: name lookup, connect, bind and listen. Every wait polls the
//! socket with a deadline, so none can outlast the handshake timeout.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::transport;
use super::wasi::clocks::monotonic_clock;
use super::wasi::io::poll::{self, Pollable};
use super::wasi::io::streams::{InputStream, OutputStream};
use super::wasi::sockets::instance_network::instance_network;
use super::wasi::sockets::ip_name_lookup::resolve_addresses;
use super::wasi::sockets::network::{
    ErrorCode, IpAddress, IpAddressFamily, IpSocketAddress, Ipv4SocketAddress, Ipv6SocketAddress,
    Network,
};
use super::wasi::sockets::tcp::TcpSocket;
use super::wasi::sockets::tcp_create_socket::create_tcp_socket;

/// A failed network operation: what was attempted and the WASI error code.
pub(super) fn describe(what: &str, e: ErrorCode) -> String {
    format!("{what}: {e:?}")
}

/// Waits for `p` until `deadline` (ms, monotonic). False if the deadline passed first.
pub(super) fn wait(p: &Pollable, deadline: Option<u64>) -> bool {
    match deadline {
        None => {
            p.block();
            true
        }
        Some(d) => {
            let timer = monotonic_clock::subscribe_instant(d.saturating_mul(1_000_000));
            poll::poll(&[p, &timer]);
            p.ready()
        }
    }
}

/// Runs a `wasi:sockets` operation that reports `would-block` until it completes.
fn finish<T>(
    socket: &TcpSocket,
    deadline: Option<u64>,
    what: &str,
    mut op: impl FnMut(&TcpSocket) -> Result<T, ErrorCode>,
) -> Result<T, String> {
    loop {
        match op(socket) {
            Err(ErrorCode::WouldBlock) => {
                let p = socket.subscribe();
                if !wait(&p, deadline) {
                    return Err(format!("{what}: timed out"));
                }
            }
            r => return r.map_err(|e| describe(what, e)),
        }
    }
}

fn wasi_address(a: SocketAddr) -> IpSocketAddress {
    match a {
        SocketAddr::V4(v4) => {
            let [a, b, c, d] = v4.ip().octets();
            IpSocketAddress::Ipv4(Ipv4SocketAddress {
                port: v4.port(),
                address: (a, b, c, d),
            })
        }
        SocketAddr::V6(v6) => {
            let s = v6.ip().segments();
            IpSocketAddress::Ipv6(Ipv6SocketAddress {
                port: v6.port(),
                flow_info: v6.flowinfo(),
                address: (s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]),
                scope_id: v6.scope_id(),
            })
        }
    }
}

pub(super) fn std_address(a: IpSocketAddress) -> SocketAddr {
    match a {
        IpSocketAddress::Ipv4(v4) => {
            let (a, b, c, d) = v4.address;
            SocketAddr::new(IpAddr::V4(Ipv4Addr::new(a, b, c, d)), v4.port)
        }
        IpSocketAddress::Ipv6(v6) => {
            let (a, b, c, d, e, f, g, h) = v6.address;
            SocketAddr::new(IpAddr::V6(Ipv6Addr::new(a, b, c, d, e, f, g, h)), v6.port)
        }
    }
}

fn family(a: &SocketAddr) -> IpAddressFamily {
    match a {
        SocketAddr::V4(_) => IpAddressFamily::Ipv4,
        SocketAddr::V6(_) => IpAddressFamily::Ipv6,
    }
}

/// The addresses of `host` (an IP literal is used as is).
fn resolve(net: &Network, host: &str, deadline: Option<u64>) -> Result<Vec<IpAddr>, String> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    let what = format!("resolving {host:?}");
    let stream = resolve_addresses(net, host).map_err(|e| describe(&what, e))?;
    let mut out = Vec::new();
    loop {
        match stream.resolve_next_address() {
            Ok(Some(IpAddress::Ipv4((a, b, c, d)))) => out.push(Ipv4Addr::new(a, b, c, d).into()),
            Ok(Some(IpAddress::Ipv6((a, b, c, d, e, f, g, h)))) => {
                out.push(Ipv6Addr::new(a, b, c, d, e, f, g, h).into())
            }
            Ok(None) => return Ok(out),
            Err(ErrorCode::WouldBlock) => {
                let p = stream.subscribe();
                if !wait(&p, deadline) {
                    return Err(format!("{what}: timed out"));
                }
            }
            Err(e) => return Err(describe(&what, e)),
        }
    }
}

/// Connects to `host:port`, trying each address in turn.
pub(super) fn connect(
    host: &str,
    port: u16,
    deadline: Option<u64>,
) -> Result<(InputStream, OutputStream, TcpSocket), String> {
    let net = instance_network();
    let mut last = format!("{host:?} has no address");
    for ip in resolve(&net, host, deadline)? {
        let addr = SocketAddr::new(ip, port);
        let what = format!("connecting to {addr}");
        let socket = create_tcp_socket(family(&addr)).map_err(|e| describe(&what, e))?;
        if let Err(e) = socket.start_connect(&net, wasi_address(addr)) {
            last = describe(&what, e);
            continue;
        }
        match finish(&socket, deadline, &what, |s| s.finish_connect()) {
            Ok((input, output)) => return Ok((input, output, socket)),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// A TCP socket listening on `addr`.
pub(super) fn listen(addr: SocketAddr) -> Result<TcpSocket, String> {
    let net = instance_network();
    let what = format!("listening on {addr}");
    let socket = create_tcp_socket(family(&addr)).map_err(|e| describe(&what, e))?;
    socket
        .start_bind(&net, wasi_address(addr))
        .map_err(|e| describe(&what, e))?;
    finish(&socket, None, &what, |s| s.finish_bind())?;
    socket.start_listen().map_err(|e| describe(&what, e))?;
    finish(&socket, None, &what, |s| s.finish_listen())?;
    Ok(socket)
}

/// Waits for the next connection on a listening socket.
pub(super) fn accept(
    listener: &TcpSocket,
) -> Result<(InputStream, OutputStream, TcpSocket), String> {
    let (socket, input, output) = finish(listener, None, "accepting", |s| s.accept())?;
    Ok((input, output, socket))
}

/// Takes a connection waiting on a listening socket, if there is one, without waiting.
pub(super) fn try_accept(
    listener: &TcpSocket,
) -> Result<Option<(InputStream, OutputStream, TcpSocket)>, String> {
    match listener.accept() {
        Ok((socket, input, output)) => Ok(Some((input, output, socket))),
        Err(ErrorCode::WouldBlock) => Ok(None),
        Err(e) => Err(describe("accepting", e)),
    }
}

/// The handshake deadline for a connection started now, in ms on the monotonic clock.
pub(super) fn deadline(timeout_ms: Option<u64>) -> Option<u64> {
    timeout_ms.map(|t| transport::now_ms().saturating_add(t))
}
