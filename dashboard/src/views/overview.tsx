// The overview: capture status (start and stop for admins), alerts over time by severity and
// traffic rate (uPlot), top attack types and top talkers.

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import uPlot from "uplot";
import { call, isAdmin, isReport } from "../api";
import { num } from "../util";
import { report } from "../report";

interface Point {
  start: string;
  alerts: number;
  alerts_by_severity: [number, number, number, number];
  flows: number;
  packets: number;
  bytes: number;
}

/// A bucket width in words: "minute", "15 minutes", "6.1 days".
function span(ms: number): string {
  const m = ms / 60000;
  if (m === 1) return "minute";
  if (m < 120) return `${m} minutes`;
  if (m < 2880) return `${(m / 60).toFixed(1)} hours`;
  return `${(m / 1440).toFixed(1)} days`;
}

const SEV_COLOURS = ["#7aa2f7", "#e0af68", "#f7768e", "#ff3b5c"];

function Chart(props: { title: string; series: { label: string; colour: string }[]; data: uPlot.AlignedData; testid: string }) {
  const el = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  // One plot for the component's life; new data goes in with setData (re-creating it on
  // every render would leave an undrawn canvas behind each time).
  useEffect(() => {
    if (!el.current) return;
    const width = el.current.clientWidth || 600;
    plot.current = new uPlot(
      {
        width,
        height: 220,
        series: [
          {},
          ...props.series.map((s) => ({
            label: s.label,
            stroke: s.colour,
            width: 2,
            fill: `${s.colour}22`,
            points: { show: true, size: 5 },
          })),
        ],
        axes: [
          { stroke: "#a9b1d6", grid: { stroke: "#2a2f45" } },
          { stroke: "#a9b1d6", grid: { stroke: "#2a2f45" }, size: 60 },
        ],
        legend: { show: true },
      },
      props.data,
      el.current,
    );
    return () => {
      plot.current?.destroy();
      plot.current = null;
    };
  }, []);
  useEffect(() => {
    plot.current?.setData(props.data);
  }, [props.data]);
  return (
    <div class="card chart" data-testid={props.testid}>
      <h3>{props.title}</h3>
      <div ref={el} />
    </div>
  );
}

function Top(props: { title: string; items: { key: string; count: number; bytes: number }[]; bytes?: boolean }) {
  const max = Math.max(1, ...props.items.map((i) => (props.bytes ? i.bytes : i.count)));
  return (
    <div class="card">
      <h3>{props.title}</h3>
      <table class="kv top">
        <tbody>
          {props.items.map((i) => {
            const v = props.bytes ? i.bytes : i.count;
            return (
              <tr>
                <th class="mono">{i.key}</th>
                <td class="num">{num(v)}{props.bytes ? " B" : ""}</td>
                <td class="meter"><span style={{ width: `${(100 * v) / max}%` }} /></td>
              </tr>
            );
          })}
          {props.items.length === 0 && <tr><td class="empty">No data yet.</td></tr>}
        </tbody>
      </table>
    </div>
  );
}

export function Status(props: { tick: number; onError: (e: unknown) => void }) {
  const [s, setS] = useState<any>(null);
  const [pcap, setPcap] = useState("");
  const [iface, setIface] = useState("");
  const load = () => call<any>("GET", "/api/v1/capture/status").then(setS).catch(props.onError);
  useEffect(() => {
    load();
  }, [props.tick]);
  const start = async (body: unknown) => {
    try {
      await call("POST", "/api/v1/capture/start", body);
      await load();
    } catch (e) {
      props.onError(e);
    }
  };
  const stop = async () => {
    try {
      await call("POST", "/api/v1/capture/stop");
      await load();
    } catch (e) {
      props.onError(e);
    }
  };
  if (!s) return null;
  return (
    <div class="card" data-testid="capture">
      <h3>Capture: {s.state}</h3>
      <table class="kv">
        <tbody>
          <tr><th>source</th><td class="mono">{s.source ?? "—"}</td></tr>
          <tr><th>packets/s</th><td class="num">{num(s.packets_per_s)}</td></tr>
          <tr><th>bytes/s</th><td class="num">{num(s.bytes_per_s)}</td></tr>
          <tr><th>kernel drops</th><td class="num">{num(s.kernel_drops)} of {num(s.kernel_packets)}</td></tr>
          <tr><th>flows active</th><td class="num">{num(s.flows_active)}</td></tr>
          <tr><th>alerts</th><td class="num">{num(s.alerts)}</td></tr>
          {s.error && <tr><th>error</th><td class="warn">{s.error}</td></tr>}
        </tbody>
      </table>
      {isAdmin() && (
        <div class="bar">
          {s.state === "running" ? (
            <button onClick={stop}>Stop</button>
          ) : (
            <>
              <input placeholder="capture file on the server" value={pcap} onInput={(e) => setPcap((e.target as HTMLInputElement).value)} />
              <button disabled={!pcap} onClick={() => start({ pcap, speed: "realtime" })}>Replay</button>
              <input placeholder="interface" value={iface} onInput={(e) => setIface((e.target as HTMLInputElement).value)} />
              <button disabled={!iface} onClick={() => start({ interface: iface })}>Capture</button>
            </>
          )}
        </div>
      )}
    </div>
  );
}

export function Overview(props: { tick: number; onError: (e: unknown) => void }) {
  const [points, setPoints] = useState<Point[]>([]);
  const [bucketMs, setBucketMs] = useState(60000);
  const [types, setTypes] = useState<any[]>([]);
  const [talkers, setTalkers] = useState<any[]>([]);
  const [totals, setTotals] = useState<any>(null);
  const [protocols, setProtocols] = useState<any[]>([]);
  useEffect(() => {
    if (isReport()) {
      call<{ items: any[] }>("GET", "/api/v1/analytics/top?by=protocols&limit=15")
        .then((p) => setProtocols(p.items))
        .catch(props.onError);
    }
    Promise.all([
      call<{ points: Point[]; bucket: string }>("GET", "/api/v1/analytics/trends?bucket=1m"),
      call<{ items: any[] }>("GET", "/api/v1/analytics/top?by=attack_types&limit=10"),
      call<{ items: any[] }>("GET", "/api/v1/analytics/top?by=talkers&limit=10"),
      call<any>("GET", "/api/v1/analytics/overview"),
    ])
      .then(([t, a, k, o]) => {
        setPoints(t.points);
        const unit: Record<string, number> = { m: 60000, h: 3600000, d: 86400000, s: 1000 };
        const m = t.bucket.match(/^(\d+)([smhd])$/);
        setBucketMs(m ? Number(m[1]) * unit[m[2]] : 60000);
        setTypes(a.items);
        setTalkers(k.items);
        setTotals(o.stored);
      })
      .catch(props.onError);
  }, [props.tick]);
  // The server returns buckets with data only; quiet buckets are zeros on the chart.
  const [alerts, traffic] = useMemo(() => {
    const filled: Point[] = [];
    if (points.length) {
      const first = Date.parse(points[0].start);
      const last = Date.parse(points[points.length - 1].start);
      const byStart = new Map(points.map((p) => [Date.parse(p.start), p]));
      for (let t = first; t <= last && filled.length < 1440; t += bucketMs) {
        filled.push(
          byStart.get(t) ?? {
            start: new Date(t).toISOString(),
            alerts: 0,
            alerts_by_severity: [0, 0, 0, 0],
            flows: 0,
            packets: 0,
            bytes: 0,
          },
        );
      }
    }
    const xs = filled.map((p) => Date.parse(p.start) / 1000);
    const secs = bucketMs / 1000;
    const a: uPlot.AlignedData = [xs, ...[0, 1, 2, 3].map((i) => filled.map((p) => p.alerts_by_severity[i]))];
    const t: uPlot.AlignedData = [xs, filled.map((p) => p.packets / secs), filled.map((p) => p.bytes / secs)];
    return [a, t];
  }, [points, bucketMs]);
  return (
    <section>
      <header class="bar">
        <h2>Overview</h2>
        {totals && (
          <span>
            {num(totals.alerts)} alerts · {num(totals.flows)} flows · {num(totals.packets)} packets stored
          </span>
        )}
      </header>
      <div class="cards">
        {isReport() ? (
          <div class="card">
            <h3>Captures</h3>
            <p class="mono">{report?.captures.join(", ")}</p>
          </div>
        ) : (
          <Status tick={props.tick} onError={props.onError} />
        )}
        <Top title="Top attack types" items={types} />
        <Top title="Top talkers (bytes sent)" items={talkers} bytes />
        {isReport() && <Top title="Protocols (flows)" items={protocols} />}
      </div>
      <div class="cards wide">
        <Chart
          title={`Alerts per ${span(bucketMs)} by severity`}
          testid="chart-alerts"
          series={["LOW", "MEDIUM", "HIGH", "CRITICAL"].map((l, i) => ({ label: l, colour: SEV_COLOURS[i] }))}
          data={alerts}
        />
        <Chart
          title="Traffic rate (per second, by bucket of packet time)"
          testid="chart-traffic"
          series={[
            { label: "packets/s", colour: "#9ece6a" },
            { label: "bytes/s", colour: "#7dcfff" },
          ]}
          data={traffic}
        />
      </div>
    </section>
  );
}
