// Runtimes without a known way to open TCP connections (a browser, say): servers and
// user-supplied transports still work.

export function dial() {
  return Promise.reject(new Error("this runtime has no TCP sockets; pass { transport: { readable, writable } }"));
}
