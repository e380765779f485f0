// Small helpers shared by every page: DOM building, number formatting, the API with its token.

const TOKEN_KEY = "territory.token";

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const SVG_NS = "http://www.w3.org/2000/svg";
export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

export function num(value, digits = 1) {
  if (value === undefined || value === null || Number.isNaN(value)) return "–";
  return Number(value).toLocaleString("en-GB", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export function clock(epochSeconds) {
  if (!epochSeconds) return "–";
  return new Date(epochSeconds * 1000).toLocaleTimeString("en-GB");
}

export function dateTime(epochSeconds) {
  if (!epochSeconds) return "–";
  const d = new Date(epochSeconds * 1000);
  return `${d.toLocaleDateString("en-GB")} ${d.toLocaleTimeString("en-GB")}`;
}

export function ratioClass(ratio, near = 0.9) {
  if (ratio > 1) return "critical";
  if (ratio >= near) return "warning";
  return "ok";
}

export function bar(value, limit, cls) {
  const ratio = limit > 0 ? Math.min(1, Math.max(0, value / limit)) : 0;
  const node = el("div", { class: `bar ${cls || ratioClass(limit > 0 ? value / limit : 0)}` }, el("span"));
  node.firstChild.style.width = `${(ratio * 100).toFixed(1)}%`;
  return node;
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export function authHeaders(extra = {}) {
  const headers = { ...extra };
  const current = token();
  if (current) headers.Authorization = `Bearer ${current}`;
  return headers;
}

export class ApiError extends Error {
  constructor(status, detail) {
    super(`${status}: ${detail}`);
    this.status = status;
    this.detail = detail;
  }
}

const unauthorisedListeners = [];
export function onUnauthorised(listener) {
  unauthorisedListeners.push(listener);
}

export async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: authHeaders(options.headers || {}) });
  if (response.status === 401) unauthorisedListeners.forEach((listener) => listener());
  if (!response.ok) {
    let detail = response.statusText;
    try {
      detail = (await response.json()).detail || detail;
    } catch (_) { /* not JSON */ }
    throw new ApiError(response.status, typeof detail === "string" ? detail : JSON.stringify(detail));
  }
  return response.json();
}

// The headline value of a reading, by kind, as [text, number or null].
export function headline(reading) {
  const f = reading.fields;
  switch (reading.kind) {
    case "bike_station": return `${f.availableBikeNumber} / ${f.totalSlotNumber} bikes`;
    case "feeder": return `${num(f.activePower)} / ${num(f.powerLimit)} kW`;
    case "ev_charger": return `${f.status}, ${num(f.powerConsumption)} kW`;
    case "meter": case "pv": return `${num(f.activePower)} kW`;
    case "traffic": return `${f.intensity} veh, ${num(f.averageVehicleSpeed)} km/h`;
    case "transit_counter": return `${f.boardings} boardings`;
    case "air": return `PM2.5 ${num(f.pm25)} µg/m³`;
    default: return Object.entries(f).map(([k, v]) => `${k}=${v}`).join(", ");
  }
}

export function deviceLink(deviceId) {
  return el("a", { href: `#/device/${encodeURIComponent(deviceId)}` }, deviceId);
}
