// Report mode: the data embedded in the page by `netsec analyze --report` answers the same
// calls the views make of the server, so every view works frozen, from disk, offline.

import type { Alert, Group, Severity } from "./types";

interface ReportData {
  title: string;
  captures: string[];
  alerts: Alert[];
  alerts_total: number;
  flows: any[];
  flows_total: number;
  packets: number;
  bytes: number;
  protocols: Record<string, number>;
  top_talkers: { key: string; count: number; bytes: number }[];
  top_ports: { key: string; count: number; bytes: number }[];
  devices: any[];
  devices_total: number;
  /// The text of each rule that raised a kept alert, keyed `gid:sid`.
  rules?: Record<string, string>;
}

const el = typeof document !== "undefined" ? document.getElementById("netsec-report") : null;
export const report: ReportData | null = el ? JSON.parse(el.textContent ?? "null") : null;

const SEV: Severity[] = ["LOW", "MEDIUM", "HIGH", "CRITICAL"];

function groupKey(a: Alert) {
  const m = a.meta as Record<string, any>;
  const signature = m.sid !== undefined ? `${m.gid ?? 1}:${m.sid}` : a.attack_type;
  return { detector: a.detector, signature, src_ip: a.src_ip ?? null, dst_ip: a.dst_ip ?? null };
}

function filterAlerts(q: URLSearchParams): Alert[] {
  const min = q.get("severity");
  const text = q.get("q")?.toLowerCase();
  const since = q.get("since") ? Date.parse(q.get("since")!) : undefined;
  return report!.alerts.filter(
    (a) =>
      (!min || SEV.indexOf(a.severity) >= SEV.indexOf(min as Severity)) &&
      (!q.get("status") || a.status === q.get("status")) &&
      (!q.get("attack_type") || a.attack_type === q.get("attack_type")) &&
      (!q.get("detector") || a.detector === q.get("detector")) &&
      (!since || Date.parse(a.timestamp) >= since) &&
      (!text ||
        a.description.toLowerCase().includes(text) ||
        (a.src_ip ?? "").includes(text) ||
        (a.dst_ip ?? "").includes(text)),
  );
}

function groups(alerts: Alert[]): Group[] {
  const map = new Map<string, Group>();
  for (const a of alerts) {
    const key = groupKey(a);
    const id = JSON.stringify(key);
    let g = map.get(id);
    if (!g) {
      g = {
        key,
        signature_name: a.detector === "rules" ? a.description : a.attack_type,
        attack_type: a.attack_type,
        count: 0,
        first_seen: a.timestamp,
        last_seen: a.timestamp,
        max_severity: a.severity,
        statuses: [0, 0, 0, 0],
      };
      map.set(id, g);
    }
    g.count++;
    if (a.timestamp < g.first_seen) g.first_seen = a.timestamp;
    if (a.timestamp > g.last_seen) g.last_seen = a.timestamp;
    if (SEV.indexOf(a.severity) > SEV.indexOf(g.max_severity)) g.max_severity = a.severity;
    g.statuses[["NEW", "ACKNOWLEDGED", "SUPPRESSED", "RESOLVED"].indexOf(a.status)]++;
  }
  return [...map.values()].sort((a, b) => (a.last_seen < b.last_seen ? 1 : -1));
}

function trends() {
  const times = [
    ...report!.alerts.map((a) => Date.parse(a.timestamp)),
    ...report!.flows.map((f) => Date.parse(f.last_seen)),
  ];
  if (!times.length) return { bucket: "60s", points: [] };
  const lo = Math.min(...times);
  const hi = Math.max(...times);
  // At most about 720 buckets, at least a minute each.
  const width = Math.max(60000, Math.ceil((hi - lo) / 720 / 60000) * 60000);
  const start = Math.floor(lo / width) * width;
  const points = new Map<number, any>();
  const at = (t: number) => {
    const b = start + Math.floor((t - start) / width) * width;
    let p = points.get(b);
    if (!p) {
      p = { start: new Date(b).toISOString(), alerts: 0, alerts_by_severity: [0, 0, 0, 0], flows: 0, packets: 0, bytes: 0 };
      points.set(b, p);
    }
    return p;
  };
  for (const a of report!.alerts) {
    const p = at(Date.parse(a.timestamp));
    p.alerts++;
    p.alerts_by_severity[SEV.indexOf(a.severity)]++;
  }
  for (const f of report!.flows) {
    const p = at(Date.parse(f.last_seen));
    p.flows++;
    p.packets += f.features.tot_fwd_pkts + f.features.tot_bwd_pkts;
    p.bytes += f.features.totlen_fwd + f.features.totlen_bwd;
  }
  return { bucket: `${width / 1000}s`, points: [...points.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]) };
}

function count<T>(items: T[], key: (t: T) => string) {
  const m = new Map<string, number>();
  for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
  return Object.fromEntries(m);
}

/// Answers `GET path` from the embedded data.
export function reportCall(method: string, path: string): unknown {
  const r = report!;
  if (method !== "GET") throw new Error("a report is read-only");
  const [p, qs] = path.split("?");
  const q = new URLSearchParams(qs ?? "");
  const limit = Number(q.get("limit") ?? 100);
  const m = p.match(/^\/api\/v1\/alerts\/([^/]+)(\/history|\/flow)?$/);
  const rule = p.match(/^\/api\/v1\/rules\/(\d+)$/);
  if (rule) {
    const gid = q.get("gid") ?? "1";
    const text = r.rules?.[`${gid}:${rule[1]}`];
    if (text === undefined) throw new Error(`rule ${gid}:${rule[1]} is not in this report`);
    return { gid: Number(gid), sid: Number(rule[1]), text };
  }
  if (p === "/api/v1/auth/me") return { name: "report", role: "viewer" };
  if (p === "/api/v1/alerts") {
    const all = filterAlerts(q);
    const from = Number(q.get("cursor") ?? 0);
    const page = all.slice(from, from + limit);
    return { alerts: page, count: page.length, next_cursor: from + limit < all.length ? String(from + limit) : null, partial: false };
  }
  if (p === "/api/v1/alerts/groups") {
    const all = filterAlerts(q).filter((a) => (q.get("status") ? true : a.status === "NEW" || a.status === "ACKNOWLEDGED"));
    return { groups: groups(all).slice(0, limit), partial: false };
  }
  if (m && m[1] !== "groups") {
    const a = r.alerts.find((x) => x.id === m[1]);
    if (!a) throw new Error(`alert ${m[1]} is not in this report`);
    if (m[2] === "/flow") {
      const f = r.flows.find(
        (f) =>
          f.flow_id === a.flow_id &&
          ((f.src_ip === a.src_ip && f.dst_ip === a.dst_ip) || (f.src_ip === a.dst_ip && f.dst_ip === a.src_ip)),
      );
      if (!f) throw new Error(`the flow of alert ${a.id} is not in this report's flow sample`);
      return f;
    }
    return m[2] ? { id: a.id, history: [] } : a;
  }
  if (p === "/api/v1/flows") {
    const ip = q.get("ip");
    const port = q.get("port") ? Number(q.get("port")) : undefined;
    const all = r.flows.filter(
      (f) => (!ip || f.src_ip === ip || f.dst_ip === ip) && (port === undefined || f.src_port === port || f.dst_port === port),
    );
    const from = Number(q.get("cursor") ?? 0);
    return {
      flows: all.slice(from, from + limit),
      next_cursor: from + limit < all.length ? String(from + limit) : null,
      partial: false,
      sampled_of: r.flows_total,
    };
  }
  if (p === "/api/v1/devices") return { devices: r.devices, total: r.devices_total };
  if (p === "/api/v1/analytics/trends") return trends();
  if (p === "/api/v1/analytics/top") {
    const by = q.get("by");
    if (by === "talkers") return { by, items: r.top_talkers.slice(0, limit) };
    if (by === "ports") return { by, items: r.top_ports.slice(0, limit) };
    if (by === "protocols") {
      const items = Object.entries(r.protocols)
        .map(([key, count]) => ({ key, count, bytes: 0 }))
        .sort((a, b) => b.count - a.count);
      return { by, items: items.slice(0, limit) };
    }
    const types = count(r.alerts, (a) => a.attack_type);
    const items = Object.entries(types)
      .map(([key, n]) => ({ key, count: n, bytes: 0 }))
      .sort((a, b) => b.count - a.count);
    return { by, items: items.slice(0, limit) };
  }
  if (p === "/api/v1/analytics/overview") {
    return {
      stored: {
        alerts: r.alerts_total,
        flows: r.flows_total,
        packets: r.packets,
        bytes: r.bytes,
        alerts_by_severity: count(r.alerts, (a) => a.severity),
        alerts_by_status: count(r.alerts, (a) => a.status),
      },
      live: {},
    };
  }
  if (p === "/api/v1/capture/status") {
    return { state: "report", source: r.captures.join(", "), packets_per_s: 0, bytes_per_s: 0, kernel_drops: 0, kernel_packets: r.packets, flows_active: 0, alerts: r.alerts_total };
  }
  throw new Error(`${p} is not in a report`);
}
