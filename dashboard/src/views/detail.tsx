// One alert: every field, its status history, what the detector observed against its
// thresholds (or the model's score and top features, or the rule), and its flow.

import { useEffect, useState } from "preact/hooks";
import { Alert, ApiError, call, canChange, STATUSES } from "../api";
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

/// A value for a table cell: fractions to 3 decimals, objects as JSON.
function show(v: unknown): string {
  if (typeof v === "number" && !Number.isInteger(v)) return v.toFixed(3);
  return typeof v === "object" ? JSON.stringify(v) : String(v);
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
              <td class="mono">{show(v)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/// The value of `p`, or `missing` when the server (or the report) has none (404).
async function optional<T, M>(p: Promise<T>, missing: M): Promise<T | M> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return missing;
    throw e;
  }
}

interface Contribution {
  feature: string;
  share: number;
  value: number;
}

/// A model's explanation: each feature's share of the decision, as a bar, with its value.
function TopFeatures(props: { value: Contribution[] }) {
  return (
    <div class="card">
      <h3>Top features</h3>
      <table class="grid" data-testid="top-features">
        <thead>
          <tr><th>Feature</th><th>Value</th><th>Share</th></tr>
        </thead>
        <tbody>
          {props.value.map((c) => (
            <tr>
              <td class="mono">{c.feature}</td>
              <td class="mono">{Number.isInteger(c.value) ? c.value : c.value.toFixed(3)}</td>
              <td>
                <span class="share" style={{ width: `${Math.round(c.share * 100)}%` }} />
                {(c.share * 100).toFixed(0)}%
              </td>
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
  const [rule, setRule] = useState<string | null>(null);
  const [note, setNote] = useState("");

  const load = async () => {
    try {
      const alert = await call<Alert>("GET", `/api/v1/alerts/${props.id}`);
      setA(alert);
      setFlow(null);
      setRule(null);
      const h = await call<{ history: Change[] }>("GET", `/api/v1/alerts/${props.id}/history`);
      setHistory(h.history);
      const meta = alert.meta as Record<string, any>;
      if (alert.flow_id !== undefined) {
        setFlow(await optional(call<any>("GET", `/api/v1/alerts/${props.id}/flow`), "not stored"));
      }
      if (alert.detector === "rules" && meta.sid !== undefined) {
        const r = await optional(call<{ text: string }>("GET", `/api/v1/rules/${meta.sid}?gid=${meta.gid ?? 1}`), null);
        setRule(r?.text ?? null);
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
          <Pairs title="Rule" value={{ gid: meta.gid ?? 1, sid: meta.sid, rev: meta.rev, classtype: meta.classtype }} />
        )}
        {meta.model_name && (
          <Pairs
            title="Model"
            value={{ model: meta.model_name, version: meta.model_version, confidence: meta.confidence, score: a.score }}
          />
        )}
        {Array.isArray(meta.top_features) && <TopFeatures value={meta.top_features} />}
      </div>
      {a.detector === "rules" && (
        <div class="card">
          <h3>Rule text</h3>
          {rule ? (
            <pre class="rule" data-testid="rule-text">{rule}</pre>
          ) : (
            <p class="empty">The rule is no longer loaded.</p>
          )}
        </div>
      )}
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
      {flow === "not stored" && (
        <div class="card">
          <h3>Flow {a.flow_id}</h3>
          <p class="empty">This flow is not stored: still active, pruned by retention, or outside a report's flow sample.</p>
        </div>
      )}
      {flow && flow !== "not stored" && (
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
