// The live state of the territory, kept current by the server's event stream.
//
// fetch() rather than EventSource, so that the bearer token travels in a header. After a
// break the stream reconnects with the number of the last batch seen (Last-Event-ID) and
// the server sends only what was missed. The state holds one entry per device, domain,
// alert and zone: it does not grow with the time the page stays open.

import { authHeaders } from "./util.js";

export const state = {
  version: null,
  readings: new Map(),
  plans: {},
  alerts: new Map(),
  zones: new Map(),
};

const listeners = new Set();
export function subscribe(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function setIndicator(connected) {
  const node = document.getElementById("live");
  node.className = connected ? "live on" : "live off";
  node.textContent = connected ? "live" : "offline";
  node.dataset.version = state.version ?? "";
}

function keyed(map, items, key) {
  for (const item of items || []) {
    if (item.removed) map.delete(item[key]);
    else map.set(item[key], item);
  }
}

function apply(kind, body) {
  if (kind === "snapshot") {
    state.readings.clear();
    state.alerts.clear();
    state.zones.clear();
    state.plans = {};
  }
  keyed(state.readings, body.readings, "device_id");
  keyed(state.alerts, body.alerts, "id");
  keyed(state.zones, body.zones, "id");
  Object.assign(state.plans, body.plans || {});
  state.version = body.version;
  setIndicator(true);
  const changes = { snapshot: kind === "snapshot", ...body };
  for (const listener of listeners) {
    try {
      listener(changes);
    } catch (error) {
      console.error(error);
    }
  }
}

function dispatch(block) {
  let kind = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) kind = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
  }
  if (data.length && (kind === "snapshot" || kind === "update")) apply(kind, JSON.parse(data.join("\n")));
}

let controller = null;
let retryMs = 500;

export async function connect(onUnauthorised) {
  controller?.abort();
  controller = new AbortController();
  const headers = authHeaders({ Accept: "text/event-stream" });
  if (state.version !== null) headers["Last-Event-ID"] = String(state.version);
  try {
    const response = await fetch("/api/stream", { headers, signal: controller.signal, cache: "no-store" });
    if (response.status === 401) {
      setIndicator(false);
      onUnauthorised();
      return;
    }
    if (!response.ok) throw new Error(`stream: ${response.status}`);
    retryMs = 500;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value.replace(/\r/g, "");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        dispatch(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
  } catch (error) {
    if (error.name === "AbortError") return;
    console.warn("stream broken", error);
  }
  setIndicator(false);
  retryMs = Math.min(retryMs * 2, 10000);
  setTimeout(() => connect(onUnauthorised), retryMs);
}

export function disconnect() {
  controller?.abort();
  controller = null;
  setIndicator(false);
}
