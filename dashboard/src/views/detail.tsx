// One alert: every field, its status history, what the detector observed against its
// thresholds (or the model's score and top features, or the rule), and its flow.

import { useEffect, useState } from "preact/hooks";
import { Alert, call, canChange, STATUSES } from "../api";
import { endpoint, sevClass, time } from "../util";

interface Change {
  at: string;
  who: string;
  from: string;
  to: string;
  note: string | null;
}

function Json(props: { value: unknown }) {
  return <pre class="json">{JSON.stringify(props.value, null, 2)}</pre>;
}

function Pairs(props: { title: string; value: unknown }) {
  if (!props.value || typeof props.value !== "object") return null;
  return (
    <div class="card">
      <h3>{props.title}</h3>
      <table class="kv">
        <tbody>
          {Object.entries(props.value as Record<string, unknown>).map(([k, v]) => (
            <tr>
              <th>{k}</th>
              <td class="mono">{typeof v === "object" ? JSON.stringify(v) : String(v)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function Detail(props: { id: string; onError: (e: unknown) => void }) {
  const [a, setA] = useState<Alert | null>(null);
  const [history, setHistory] = useState<Change[]>([]);
  const [flow, setFlow] = useState<any>(null);
  const [note, setNote] = useState("");

  const load = async () => {
    try {
      const alert = await call<Alert>("GET", `/api/v1/alerts/${props.id}`);
      setA(alert);
      const h = await call<{ history: Change[] }>("GET", `/api/v1/alerts/${props.id}/history`);
      setHistory(h.history);
      if (alert.flow_id !== undefined && alert.src_ip) {
        const port = alert.dst_port ?? alert.src_port;
        const q = `ip=${encodeURIComponent(alert.src_ip)}${port !== undefined ? `&port=${port}` : ""}&limit=1000`;
        const flows = await call<{ flows: any[] }>("GET", `/api/v1/flows?${q}`);
        setFlow(flows.flows.find((f) => f.flow_id === alert.flow_id) ?? null);
      }
    } catch (e) {
      props.onError(e);
    }
  };
  useEffect(() => {
    load();
  }, [props.id]);

  if (!a) return <section>Loading…</section>;
  const change = async (to: string) => {
    try {
      await call("PATCH", `/api/v1/alerts/${a.id}`, { status: to, note: note || undefined });
      setNote("");
      await load();
    } catch (e) {
      props.onError(e);
    }
  };
  const meta = a.meta as Record<string, any>;
  return (
    <section>
      <header class="bar">
        <a href="#/alerts">← Alerts</a>
        <h2>
          <span class={sevClass(a.severity)}>{a.severity}</span> {a.attack_type}
        </h2>
        <span class="status" data-testid="status">
          {a.status}
        </span>
      </header>
      <p class="desc">{a.description}</p>
      {canChange() && (
        <div class="bar">
          <input placeholder="note (optional)" value={note} onInput={(e) => setNote((e.target as HTMLInputElement).value)} />
          {STATUSES.filter((s) => s !== a.status).map((s) => (
            <button onClick={() => change(s)}>{s}</button>
          ))}
        </div>
      )}
      <div class="cards">
        <div class="card">
          <h3>Alert</h3>
          <table class="kv">
            <tbody>
              <tr><th>id</th><td class="mono">{a.id}</td></tr>
              <tr><th>time</th><td class="mono">{time(a.timestamp)}</td></tr>
              <tr><th>detector</th><td>{a.detector}</td></tr>
              <tr><th>source</th><td class="mono">{endpoint(a.src_ip, a.src_port)}</td></tr>
              <tr><th>destination</th><td class="mono">{endpoint(a.dst_ip, a.dst_port)}</td></tr>
              <tr><th>protocol</th><td>{a.protocol ?? "—"}</td></tr>
              <tr><th>score</th><td>{a.score.toFixed(3)}</td></tr>
              <tr><th>flow</th><td>{a.flow_id ?? "—"}</td></tr>
              <tr><th>tags</th><td>{a.tags.join(", ")}</td></tr>
            </tbody>
          </table>
        </div>
        {meta.observed && <Pairs title="Observed" value={meta.observed} />}
        {meta.thresholds && <Pairs title="Thresholds" value={meta.thresholds} />}
        {meta.sid !== undefined && (
          <Pairs title="Rule" value={{ gid: meta.gid, sid: meta.sid, rev: meta.rev, msg: meta.msg, rule: meta.rule }} />
        )}
        {meta.model_name && (
          <Pairs
            title="Model"
            value={{ model: meta.model_name, version: meta.model_version, confidence: meta.confidence, score: a.score }}
          />
        )}
        {meta.top_features && <Pairs title="Top features" value={meta.top_features} />}
      </div>
      <div class="card">
        <h3>Status history</h3>
        <table class="grid">
          <thead>
            <tr><th>When</th><th>Who</th><th>From</th><th>To</th><th>Note</th></tr>
          </thead>
          <tbody>
            {history.map((h) => (
              <tr>
                <td class="mono">{time(h.at)}</td>
                <td>{h.who}</td>
                <td>{h.from}</td>
                <td>{h.to}</td>
                <td>{h.note ?? ""}</td>
              </tr>
            ))}
            {history.length === 0 && (
              <tr><td colSpan={5} class="empty">No change yet.</td></tr>
            )}
          </tbody>
        </table>
      </div>
      {flow && (
        <div class="cards">
          <Pairs title={`Flow ${flow.flow_id}: the 25 features`} value={flow.features} />
          {flow.app && <Pairs title={`Application (${flow.app_proto})`} value={flow.app} />}
        </div>
      )}
      <div class="card">
        <h3>Detector detail (meta)</h3>
        <Json value={a.meta} />
      </div>
    </section>
  );
}
