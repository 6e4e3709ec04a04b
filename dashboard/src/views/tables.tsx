// Flows and devices.

import { useEffect, useState } from "preact/hooks";
import { call, query } from "../api";
import { endpoint, num, time } from "../util";

export function Flows(props: { onError: (e: unknown) => void }) {
  const [ip, setIp] = useState("");
  const [port, setPort] = useState("");
  const [rows, setRows] = useState<any[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [sampledOf, setSampledOf] = useState<number | null>(null);
  const load = (cursor?: string) =>
    call<{ flows: any[]; next_cursor: string | null; sampled_of?: number }>(
      "GET",
      `/api/v1/flows${query({ ip, port, limit: 200, cursor })}`,
    )
      .then((r) => {
        setRows(cursor ? [...rows, ...r.flows] : r.flows);
        setNext(r.next_cursor);
        setSampledOf(r.sampled_of ?? null);
      })
      .catch(props.onError);
  useEffect(() => {
    load();
  }, [ip, port]);
  return (
    <section>
      <header class="bar">
        <h2>Flows</h2>
        <input aria-label="IP address" placeholder="IP address" value={ip} onChange={(e) => setIp((e.target as HTMLInputElement).value)} />
        <input aria-label="Port" placeholder="port" value={port} onChange={(e) => setPort((e.target as HTMLInputElement).value)} />
        {sampledOf !== null && (
          <span class="warn" data-testid="sampled">
            a sample: the report holds at most 5,000 flows of the {sampledOf.toLocaleString()} analysed
          </span>
        )}
      </header>
      <table class="grid" data-testid="flows">
        <thead>
          <tr>
            <th>Last seen</th><th>Source</th><th>Destination</th><th>Proto</th><th>App</th>
            <th>Packets</th><th>Bytes</th><th>Duration</th><th>End</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((f) => (
            <tr>
              <td class="mono">{time(f.last_seen)}</td>
              <td class="mono">{endpoint(f.src_ip, f.src_port)}</td>
              <td class="mono">{endpoint(f.dst_ip, f.dst_port)}</td>
              <td>{f.protocol}</td>
              <td>{f.app_proto}</td>
              <td class="num">{num(f.features.tot_fwd_pkts + f.features.tot_bwd_pkts)}</td>
              <td class="num">{num(f.features.totlen_fwd + f.features.totlen_bwd)}</td>
              <td class="num">{num(f.features.flow_duration / 1e6)} s</td>
              <td>{f.end_reason}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {next && (
        <footer class="bar">
          <button onClick={() => load(next)}>Load older</button>
        </footer>
      )}
    </section>
  );
}

export function Devices(props: { onError: (e: unknown) => void }) {
  const [rows, setRows] = useState<any[]>([]);
  const [total, setTotal] = useState<number | null>(null);
  useEffect(() => {
    call<{ devices: any[]; total?: number }>("GET", "/api/v1/devices?limit=1000")
      .then((r) => {
        setRows(r.devices);
        setTotal(r.total ?? null);
      })
      .catch(props.onError);
  }, []);
  return (
    <section>
      <header class="bar">
        <h2>Devices</h2>
        <span>
          {rows.length} hosts
          {total !== null && total > rows.length ? ` (the ${rows.length} with the most traffic of ${total.toLocaleString()})` : ""}
        </span>
      </header>
      <table class="grid" data-testid="devices">
        <thead>
          <tr>
            <th>Address</th><th>MAC</th><th>Vendor</th><th>Names</th><th>OS</th>
            <th>Sent</th><th>Received</th><th>First seen</th><th>Last seen</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((d) => (
            <tr>
              <td class="mono">{d.ip}</td>
              <td class="mono">{d.mac ?? "—"}</td>
              <td>{d.vendor ?? ""}</td>
              <td>{(d.detail?.hostnames ?? []).map((h: any) => h.name ?? h).join(", ")}</td>
              <td>{d.detail?.os?.guess ?? ""}</td>
              <td class="num">{num(d.bytes_sent)} B</td>
              <td class="num">{num(d.bytes_received)} B</td>
              <td class="mono">{time(d.first_seen)}</td>
              <td class="mono">{time(d.last_seen)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
