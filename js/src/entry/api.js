// The package's public API, shared by every entry point.

export { WebSocket } from "../websocket.js";
export { WebSocketServer } from "../server.js";
export { CloseEvent } from "../events.js";
