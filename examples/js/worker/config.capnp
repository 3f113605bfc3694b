# Runs worker.js with workerd (npm `workerd`), from this directory:
#   ../../../js/node_modules/@cloudflare/workerd-linux-64/bin/workerd serve config.capnp
#   curl 'http://127.0.0.1:8789/?target=ws://127.0.0.1:9002/'
# The package's modules are listed by their paths so that relative imports resolve; the
# engine's .wasm is imported statically (Workers may not compile wasm from bytes).
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = (
      modules = [
        (name = "examples/js/worker/worker.js", esModule = embed "worker.js"),
        (name = "js/src/entry/workerd.js", esModule = embed "../../../js/src/entry/workerd.js"),
        (name = "js/src/entry/api.js", esModule = embed "../../../js/src/entry/api.js"),
        (name = "js/src/wasm/workerd.js", esModule = embed "../../../js/src/wasm/workerd.js"),
        (name = "js/src/dial/workerd.js", esModule = embed "../../../js/src/dial/workerd.js"),
        (name = "js/src/runtime.js", esModule = embed "../../../js/src/runtime.js"),
        (name = "js/src/websocket.js", esModule = embed "../../../js/src/websocket.js"),
        (name = "js/src/server.js", esModule = embed "../../../js/src/server.js"),
        (name = "js/src/session.js", esModule = embed "../../../js/src/session.js"),
        (name = "js/src/events.js", esModule = embed "../../../js/src/events.js"),
        (name = "js/src/transport/index.js", esModule = embed "../../../js/src/transport/index.js"),
        (name = "js/src/transport/streams.js", esModule = embed "../../../js/src/transport/streams.js"),
        (name = "js/src/transport/node.js", esModule = embed "../../../js/src/transport/node.js"),
        (name = "js/pkg/wsengine.js", esModule = embed "../../../js/pkg/wsengine.js"),
        (name = "js/pkg/wsengine_bg.wasm", wasm = embed "../../../js/pkg/wsengine_bg.wasm"),
      ],
      compatibilityDate = "2024-09-23",
      # connect() may reach loopback only through a network service that allows it.
      globalOutbound = "loopback",
    )),
    (name = "loopback", network = (allow = ["127.0.0.1/32"])),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:8789", http = (), service = "main") ],
);
