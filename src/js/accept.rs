//! The server's accept decision, delegated to a JS function.
//!
//! The engine calls its [`AcceptFn`](crate::AcceptFn) from inside `next_event`, which must be
//! `Send`; a JS function is not. JS runs on one thread, so the engine's callback reads the JS
//! function from a thread-local that [`Engine`](super::Engine) sets for the duration of each
//! `next_event` call ([`with_callback`]) and clears after.
//!
//! The JS function is called as `accept(method, target, headers, protocols)` with `headers`
//! a flat `[name, value, name, value, …]` array and `protocols` the subprotocols the client
//! offered (parsed by the engine). It returns:
//! - `undefined` / `null`: accept without a subprotocol;
//! - a string: accept with that subprotocol (it must be one the client offered);
//! - a number: reject with that HTTP status (e.g. 403 for a bad `Origin`).
//!
//! If it throws, the request is rejected with 500.

use std::cell::RefCell;

use wasm_bindgen::prelude::*;

use crate::{Accept, AcceptFn, Request, Response};

#[wasm_bindgen]
extern "C" {
    /// A JS function (see the module documentation for its contract).
    #[wasm_bindgen(js_name = Function)]
    pub type AcceptCallback;

    #[wasm_bindgen(method, js_name = call, catch)]
    fn call4(
        this: &AcceptCallback,
        this_arg: &JsValue,
        method: &str,
        target: &str,
        headers: Vec<String>,
        protocols: Vec<String>,
    ) -> Result<JsValue, JsValue>;
}

thread_local! {
    static CURRENT: RefCell<Option<JsValue>> = const { RefCell::new(None) };
}

/// Runs `f` with `callback` reachable from [`accept_fn`]'s closure.
pub(crate) fn with_callback<T>(callback: Option<&JsValue>, f: impl FnOnce() -> T) -> T {
    let Some(cb) = callback else { return f() };
    CURRENT.with(|c| *c.borrow_mut() = Some(cb.clone()));
    let out = f();
    CURRENT.with(|c| *c.borrow_mut() = None);
    out
}

/// The engine-side callback that forwards to the JS function set by [`with_callback`].
pub(crate) fn accept_fn() -> AcceptFn {
    Box::new(|req: &Request| {
        let Some(cb) = CURRENT.with(|c| c.borrow().clone()) else {
            return Ok(Accept::default());
        };
        let headers: Vec<String> = req
            .headers
            .iter()
            .flat_map(|(n, v)| [n.to_owned(), v.to_owned()])
            .collect();
        let protocols: Vec<String> = req.protocols().into_iter().map(str::to_owned).collect();
        let cb: &AcceptCallback = cb.unchecked_ref();
        match cb.call4(
            &JsValue::UNDEFINED,
            &req.method,
            &req.target,
            headers,
            protocols,
        ) {
            Ok(v) if v.is_undefined() || v.is_null() => Ok(Accept::default()),
            Ok(v) => {
                if let Some(p) = v.as_string() {
                    return Ok(Accept {
                        protocol: Some(p),
                        ..Accept::default()
                    });
                }
                match v.as_f64() {
                    Some(s) if (400.0..=599.0).contains(&s) => Err(Response::new(s as u16)),
                    _ => Err(Response::new(500)),
                }
            }
            Err(_) => Err(Response::new(500)),
        }
    })
}
