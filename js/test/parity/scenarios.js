// The browser-parity scenarios. Each is a function `(WebSocket, env, log)` that returns a
// promise; it runs unchanged in headless Chromium (with its own WebSocket) and in Node (with
// this package's), and what it logs must be identical. Functions are sent to the browser as
// source text, so they may only use their arguments and globals both sides have.
//
// env: { base: "ws://127.0.0.1:PORT", dead: "ws://127.0.0.1:DEADPORT/" }

export const scenarios = {
  "open, echo, close(): states and events in order": (WebSocket, env, log) =>
    new Promise((done) => {
      const ws = new WebSocket(`${env.base}/echo`);
      log(`constructed ${ws.readyState} ${ws.url} ${ws.protocol === ""} ${ws.extensions === ""} ${ws.binaryType} ${ws.bufferedAmount}`);
      ws.onopen = (ev) => {
        log(`open ${ws.readyState} ${ev.constructor.name} ${ws.extensions !== ""}`);
        ws.send("hello");
      };
      ws.onmessage = (ev) => {
        log(`message ${ws.readyState} ${ev.constructor.name} ${typeof ev.data} ${ev.data} ${ev.origin === env.base}`);
        ws.close();
        log(`after close() ${ws.readyState}`);
      };
      ws.onerror = () => log(`error ${ws.readyState}`);
      ws.onclose = (ev) => {
        log(`close ${ws.readyState} ${ev.constructor.name} ${ev.code} ${ev.wasClean} "${ev.reason}"`);
        done();
      };
    }),

  "close(code, reason) from the client": (WebSocket, env, log) =>
    new Promise((done) => {
      const ws = new WebSocket(`${env.base}/echo`);
      ws.onopen = () => ws.close(4321, "client bye");
      ws.onerror = () => log("error");
      ws.onclose = (ev) => {
        log(`close ${ev.code} ${ev.wasClean} "${ev.reason}"`);
        done();
      };
    }),

  "the server closes with a code and reason": (WebSocket, env, log) =>
    new Promise((done) => {
      const ws = new WebSocket(`${env.base}/close-4001`);
      ws.onopen = () => log(`open ${ws.readyState}`);
      ws.onerror = () => log("error");
      ws.onclose = (ev) => {
        log(`close ${ws.readyState} ${ev.code} ${ev.wasClean} "${ev.reason}"`);
        done();
      };
    }),

  "the server closes without a status code: 1005": (WebSocket, env, log) =>
    new Promise((done) => {
      const ws = new WebSocket(`${env.base}/close-empty`);
      ws.onerror = () => log("error");
      ws.onclose = (ev) => {
        log(`close ${ev.code} ${ev.wasClean} "${ev.reason}"`);
        done();
      };
    }),

  "messages then a close, in one burst": (WebSocket, env, log) =>
    new Promise((done) => {
      const ws = new WebSocket(`${env.base}/burst`);
      ws.binaryType = "arraybuffer";
      ws.onmessage = (ev) => log(`message ${ws.readyState} ${typeof ev.data === "string" ? ev.data : new Uint8Array(ev.data).join(",")}`);
      ws.onclose = (ev) => {
        log(`close ${ev.code} ${ev.wasClean} "${ev.reason}"`);
        done();
      };
    }),

  "binaryType: blob by default, arraybuffer when set, unknown values ignored": (WebSocket, env, log) =>
    new Promise((done) => {
      const ws = new WebSocket(`${env.base}/echo`);
      ws.binaryType = "nonsense";
      log(`binaryType ${ws.binaryType}`);
      let n = 0;
      ws.onopen = () => ws.send(new Uint8Array([1, 2, 3]));
      ws.onmessage = async (ev) => {
        n++;
        if (n === 1) {
          log(`first ${ev.data.constructor.name} ${ev.data.size} ${ev.data.type === ""}`);
          log(`bytes ${new Uint8Array(await ev.data.arrayBuffer()).join(",")}`);
          ws.binaryType = "arraybuffer";
          ws.send(new Uint16Array([0x0201, 0x0403]));
        } else {
          log(`second ${ev.data.constructor.name} ${ev.data.byteLength} ${new Uint8Array(ev.data).join(",")}`);
          ws.close(1000);
        }
      };
      ws.onclose = (ev) => {
        log(`close ${ev.code} ${ev.wasClean}`);
        done();
      };
    }),

  "send() of every type; Blob order kept": (WebSocket, env, log) =>
    new Promise((done) => {
      const ws = new WebSocket(`${env.base}/echo`);
      ws.binaryType = "arraybuffer";
      const expect = 6;
      let n = 0;
      ws.onopen = () => {
        ws.send("text");
        ws.send(new Blob(["blob-"]));
        ws.send(new Uint8Array([1, 2]).buffer);
        ws.send(new DataView(new Uint8Array([3, 4, 5]).buffer, 1));
        ws.send(12345);
        ws.send("\uD800 lone surrogate");
      };
      ws.onmessage = (ev) => {
        log(typeof ev.data === "string" ? `text "${ev.data}"` : `binary ${new Uint8Array(ev.data).join(",")}`);
        if (++n === expect) ws.close();
      };
      ws.onclose = () => done();
    }),

  "close() argument checks": (WebSocket, env, log) =>
    new Promise((done) => {
      const ws = new WebSocket(`${env.base}/echo`);
      const attempt = (label, f) => {
        try {
          f();
          log(`${label}: ok ${ws.readyState}`);
        } catch (e) {
          log(`${label}: ${e.name}`);
        }
      };
      attempt("999", () => ws.close(999));
      attempt("1001", () => ws.close(1001));
      attempt("2999", () => ws.close(2999));
      attempt("5000", () => ws.close(5000));
      attempt("NaN", () => ws.close(NaN));
      attempt("string", () => ws.close("abc"));
      attempt("-1", () => ws.close(-1));
      attempt("65536+1000", () => ws.close(66536));
      attempt("4999.5", () => ws.close(4999.5));
      attempt("reason 124 bytes", () => ws.close(1000, "x".repeat(124)));
      attempt("reason 62 two-byte chars", () => ws.close(1000, "é".repeat(62)));
      attempt("reason without code", () => ws.close(undefined, "x".repeat(200)));
      attempt("undefined code", () => ws.close(undefined));
      attempt("1000.9", () => ws.close(1000.9, "a"));
      attempt("3000.4 with 123 bytes", () => ws.close(3000.4, "y".repeat(123)));
      attempt("again", () => ws.close(1000));
      ws.onerror = () => log(`error ${ws.readyState}`);
      ws.onclose = (ev) => {
        log(`close ${ev.code} ${ev.wasClean}`);
        done();
      };
    }),

  "constructor argument checks": (WebSocket, env, log) => {
    const attempt = (label, f) => {
      try {
        const ws = f();
        log(`${label}: ok ${ws.url}`);
        ws.close();
      } catch (e) {
        log(`${label}: ${e.name}`);
      }
    };
    attempt("ftp scheme", () => new WebSocket("ftp://127.0.0.1/"));
    attempt("file scheme", () => new WebSocket("file:///tmp/x"));
    attempt("fragment", () => new WebSocket(`${env.base}/echo#frag`));
    attempt("empty fragment", () => new WebSocket(`${env.base}/echo#`));
    // Not compared: hosts with spaces (Chromium's URL parser percent-encodes them; the WHATWG
    // URL parser of Node, Deno and Bun rejects them). The URL parser is the runtime's.
    attempt("unterminated ipv6", () => new WebSocket("ws://[::1/"));
    attempt("bad port", () => new WebSocket("ws://127.0.0.1:99999/"));
    attempt("http maps to ws", () => new WebSocket(`${env.base.replace("ws:", "http:")}/echo`));
    attempt("case and spaces", () => new WebSocket(`${env.base.toUpperCase().replace("WS:", "WS:")}/a b?c d`));
    attempt("duplicate protocols", () => new WebSocket(`${env.base}/echo`, ["a", "a"]));
    attempt("protocols differing in case", () => new WebSocket(`${env.base}/echo`, ["a", "A"]));
    attempt("empty protocol", () => new WebSocket(`${env.base}/echo`, [""]));
    attempt("protocol with a space", () => new WebSocket(`${env.base}/echo`, ["a b"]));
    attempt("protocol with a comma", () => new WebSocket(`${env.base}/echo`, ["a,b"]));
    attempt("non-ASCII protocol", () => new WebSocket(`${env.base}/echo`, ["é"]));
    attempt("string protocol", () => new WebSocket(`${env.base}/echo`, "chat"));
    return Promise.resolve();
  },

  "send() before open: InvalidStateError": (WebSocket, env, log) =>
    new Promise((done) => {
      const ws = new WebSocket(`${env.base}/echo`);
      try {
        ws.send("early");
        log("sent");
      } catch (e) {
        log(`${e.name} ${ws.readyState}`);
      }
      ws.onopen = () => ws.close();
      ws.onclose = () => done();
    }),

  "send() after close() only grows bufferedAmount": (WebSocket, env, log) =>
    new Promise((done) => {
      const ws = new WebSocket(`${env.base}/echo`);
      ws.onopen = () => {
        ws.close();
        ws.send("abc");
        ws.send(new Uint8Array(10));
        ws.send("é");
        log(`buffered ${ws.bufferedAmount} ${ws.readyState}`);
      };
      ws.onmessage = () => log("message");
      ws.onclose = (ev) => {
        log(`close ${ev.code} ${ev.wasClean} ${ws.bufferedAmount}`);
        ws.send("more");
        log(`buffered after close ${ws.bufferedAmount}`);
        done();
      };
    }),

  "close() while connecting": (WebSocket, env, log) =>
    new Promise((done) => {
      const ws = new WebSocket(`${env.base}/echo`);
      ws.onopen = () => log("open");
      ws.onerror = () => log(`error ${ws.readyState}`);
      ws.onclose = (ev) => {
        log(`close ${ws.readyState} ${ev.code} ${ev.wasClean} "${ev.reason}"`);
        done();
      };
      ws.close(1000, "never mind");
      log(`after close() ${ws.readyState}`);
    }),

  "refused connection": (WebSocket, env, log) =>
    new Promise((done) => {
      const ws = new WebSocket(env.dead);
      ws.onopen = () => log("open");
      ws.onerror = (ev) => log(`error ${ws.readyState} ${ev.constructor.name}`);
      ws.onclose = (ev) => {
        log(`close ${ws.readyState} ${ev.code} ${ev.wasClean} "${ev.reason}"`);
        done();
      };
    }),

  "HTTP 404 instead of an upgrade": (WebSocket, env, log) =>
    new Promise((done) => {
      const ws = new WebSocket(`${env.base}/404`);
      ws.onopen = () => log("open");
      ws.onerror = () => log(`error ${ws.readyState}`);
      ws.onclose = (ev) => {
        log(`close ${ev.code} ${ev.wasClean}`);
        done();
      };
    }),

  "the server drops TCP without a close frame": (WebSocket, env, log) =>
    new Promise((done) => {
      const ws = new WebSocket(`${env.base}/drop`);
      ws.onopen = () => log(`open ${ws.readyState}`);
      ws.onerror = () => log(`error ${ws.readyState}`);
      ws.onclose = (ev) => {
        log(`close ${ev.code} ${ev.wasClean}`);
        done();
      };
    }),

  "invalid UTF-8 from the server fails the connection": (WebSocket, env, log) =>
    new Promise((done) => {
      const ws = new WebSocket(`${env.base}/bad-utf8`);
      ws.onopen = () => log("open");
      ws.onmessage = () => log("message");
      ws.onerror = () => log(`error ${ws.readyState}`);
      ws.onclose = (ev) => {
        log(`close ${ev.code} ${ev.wasClean}`);
        done();
      };
    }),

  "a reserved opcode from the server fails the connection": (WebSocket, env, log) =>
    new Promise((done) => {
      const ws = new WebSocket(`${env.base}/reserved-opcode`);
      ws.onopen = () => log("open");
      ws.onerror = () => log(`error ${ws.readyState}`);
      ws.onclose = (ev) => {
        log(`close ${ev.code} ${ev.wasClean}`);
        done();
      };
    }),

  "subprotocol negotiation": (WebSocket, env, log) =>
    new Promise((done) => {
      const ws = new WebSocket(`${env.base}/protocol`, ["second", "first"]);
      ws.onopen = () => log(`open "${ws.protocol}"`);
      ws.onmessage = (ev) => {
        log(`message ${ev.data}`);
        ws.close();
      };
      ws.onclose = (ev) => {
        log(`close ${ev.code} "${ws.protocol}"`);
        done();
      };
    }),

  "on-properties and listeners: order, replacement, removal": (WebSocket, env, log) =>
    new Promise((done) => {
      const ws = new WebSocket(`${env.base}/echo`);
      ws.addEventListener("open", () => log("listener a"));
      ws.onopen = () => log("onopen 1");
      ws.addEventListener("open", () => log("listener b"));
      ws.onopen = () => log("onopen 2");
      const removed = () => log("removed listener");
      ws.addEventListener("open", removed);
      ws.removeEventListener("open", removed);
      ws.addEventListener("open", { handleEvent: () => log("handleEvent object") });
      log(`onmessage initially ${ws.onmessage}`);
      ws.onmessage = "not a function";
      log(`onmessage after a string ${ws.onmessage}`);
      ws.addEventListener("open", () => ws.close(), { once: true });
      ws.onclose = () => {
        log("close");
        done();
      };
    }),

  "bufferedAmount returns to 0 after a large send": (WebSocket, env, log) =>
    new Promise((done) => {
      const ws = new WebSocket(`${env.base}/silent`);
      ws.onopen = () => {
        ws.send(new Uint8Array(100000));
        log(`right after send ${ws.bufferedAmount <= 100000}`);
        const t0 = Date.now();
        const check = () => {
          if (ws.bufferedAmount === 0) {
            log("drained");
            ws.close();
          } else if (Date.now() - t0 > 5000) {
            log(`stuck ${ws.bufferedAmount}`);
            ws.close();
          } else setTimeout(check, 10);
        };
        check();
      };
      ws.onclose = (ev) => {
        log(`close ${ev.code}`);
        done();
      };
    }),

  "constants": (WebSocket, env, log) => {
    log(`${WebSocket.CONNECTING} ${WebSocket.OPEN} ${WebSocket.CLOSING} ${WebSocket.CLOSED}`);
    log(`${WebSocket.prototype.CONNECTING} ${WebSocket.prototype.CLOSED}`);
    log(`${Object.prototype.toString.call(WebSocket.prototype)}`);
    return Promise.resolve();
  },
};
