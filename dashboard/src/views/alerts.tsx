// The alert table: filters, search by address, live updates from the feed with a count of
// new alerts, keyboard navigation (↑/↓ or j/k, Enter opens, a acknowledges, as in EveBox).

import { useEffect, useRef, useState } from "preact/hooks";
import { Alert, call, canChange, query, SEVERITIES, STATUSES } from "../api";
import { endpoint, sevClass, time } from "../util";

export interface Filters {
  severity: string;
  status: string;
  attack_type: string;
  detector: string;
  ip: string;
  since: string;
}

const PAGE = 200;

export function matches(a: Alert, f: Filters): boolean {
  const rank = (s: string) => SEVERITIES.indexOf(s as never);
  if (f.severity && rank(a.severity) < rank(f.severity)) return false;
  if (f.status && a.status !== f.status) return false;
  if (f.attack_type && a.attack_type !== f.attack_type) return false;
  if (f.detector && a.detector !== f.detector) return false;
  if (f.ip && a.src_ip !== f.ip && a.dst_ip !== f.ip) return false;
  return true;
}

export function Alerts(props: {
  live: Alert[];
  initial: Partial<Filters>;
  onError: (e: unknown) => void;
  onSeen: () => void;
}) {
  const [f, setF] = useState<Filters>({
    severity: "",
    status: "",
    attack_type: "",
    detector: "",
    ip: "",
    since: "",
    ...props.initial,
  });
  const [rows, setRows] = useState<Alert[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [partial, setPartial] = useState(false);
  const [sel, setSel] = useState(0);
  const [page, setPage] = useState(0);
  const [fresh, setFresh] = useState(0);
  const seenLive = useRef(0);

  const params = (c?: string | null) => {
    const base = {
      severity: f.severity,
      status: f.status,
      attack_type: f.attack_type,
      detector: f.detector,
      since: f.since ? new Date(f.since).toISOString() : undefined,
      limit: 1000,
      cursor: c ?? undefined,
    };
    return f.ip ? { ...base, q: f.ip } : base;
  };

  const load = () =>
    call<{ alerts: Alert[]; next_cursor: string | null; partial: boolean }>("GET", `/api/v1/alerts${query(params())}`)
      .then((r) => {
        setRows(r.alerts.filter((a) => matches(a, f)));
        setCursor(r.next_cursor);
        setPartial(r.partial);
        setSel(0);
        setPage(0);
        setFresh(0);
        seenLive.current = props.live.length;
        props.onSeen();
      })
      .catch(props.onError);

  const more = () =>
    cursor &&
    call<{ alerts: Alert[]; next_cursor: string | null }>("GET", `/api/v1/alerts${query(params(cursor))}`)
      .then((r) => {
        setRows((old) => [...old, ...r.alerts.filter((a) => matches(a, f))].slice(0, 10000));
        setCursor(r.next_cursor);
      })
      .catch(props.onError);

  useEffect(() => {
    load();
  }, [f]);

  // Alerts from the feed go on top when they match the filters.
  useEffect(() => {
    const news = props.live.slice(seenLive.current).filter((a) => matches(a, f));
    seenLive.current = props.live.length;
    if (news.length) {
      setRows((old) => {
        const ids = new Set(old.map((a) => a.id));
        return [...news.reverse().filter((a) => !ids.has(a.id)), ...old].slice(0, 10000);
      });
      setFresh((n) => n + news.length);
    }
  }, [props.live.length]);

  const ack = async (a: Alert) => {
    if (!canChange()) return;
    try {
      await call("PATCH", `/api/v1/alerts/${a.id}`, { status: "ACKNOWLEDGED" });
      setRows((old) => old.map((x) => (x.id === a.id ? { ...x, status: "ACKNOWLEDGED" } : x)));
    } catch (e) {
      props.onError(e);
    }
  };

  const view = rows.slice(page * PAGE, (page + 1) * PAGE);
  const onKey = (e: KeyboardEvent) => {
    if ((e.target as HTMLElement).tagName === "INPUT" || (e.target as HTMLElement).tagName === "SELECT") return;
    if (e.key === "ArrowDown" || e.key === "j") {
      setSel((s) => Math.min(s + 1, view.length - 1));
      e.preventDefault();
    } else if (e.key === "ArrowUp" || e.key === "k") {
      setSel((s) => Math.max(s - 1, 0));
      e.preventDefault();
    } else if (e.key === "Enter" && view[sel]) {
      location.hash = `#/alert/${view[sel].id}`;
    } else if (e.key === "a" && view[sel]) {
      ack(view[sel]);
    }
  };
  useEffect(() => {
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  });

  const set = (k: keyof Filters) => (e: Event) => setF({ ...f, [k]: (e.target as HTMLInputElement).value });

  return (
    <section>
      <header class="bar">
        <h2>Alerts</h2>
        <select aria-label="Minimum severity" value={f.severity} onChange={set("severity")}>
          <option value="">any severity</option>
          {SEVERITIES.map((s) => (
            <option value={s}>≥ {s}</option>
          ))}
        </select>
        <select aria-label="Status" value={f.status} onChange={set("status")}>
          <option value="">any status</option>
          {STATUSES.map((s) => (
            <option>{s}</option>
          ))}
        </select>
        <input aria-label="Attack type" placeholder="attack type" value={f.attack_type} onChange={set("attack_type")} />
        <input aria-label="Detector" placeholder="detector" value={f.detector} onChange={set("detector")} />
        <input aria-label="IP address" placeholder="IP address" value={f.ip} onChange={set("ip")} />
        <input aria-label="Since" type="datetime-local" value={f.since} onChange={set("since")} />
        {fresh > 0 && (
          <button class="fresh" onClick={() => setFresh(0)} data-testid="new-count">
            {fresh} new
          </button>
        )}
        {partial && <span class="warn">partial</span>}
      </header>
      <table class="grid" data-testid="alerts">
        <thead>
          <tr>
            <th>Time</th>
            <th>Severity</th>
            <th>Status</th>
            <th>Type</th>
            <th>Source</th>
            <th>Destination</th>
            <th>Detector</th>
            <th>Description</th>
          </tr>
        </thead>
        <tbody>
          {view.map((a, i) => (
            <tr
              key={a.id}
              class={i === sel ? "selected" : ""}
              onClick={() => setSel(i)}
              onDblClick={() => (location.hash = `#/alert/${a.id}`)}
              data-status={a.status}
            >
              <td class="mono">{time(a.timestamp)}</td>
              <td>
                <span class={sevClass(a.severity)}>{a.severity}</span>
              </td>
              <td>{a.status}</td>
              <td>{a.attack_type}</td>
              <td class="mono">{endpoint(a.src_ip, a.src_port)}</td>
              <td class="mono">{endpoint(a.dst_ip, a.dst_port)}</td>
              <td>{a.detector}</td>
              <td>
                <a href={`#/alert/${a.id}`}>{a.description}</a>
              </td>
            </tr>
          ))}
          {view.length === 0 && (
            <tr>
              <td colSpan={8} class="empty">
                No alerts match.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <footer class="bar">
        <span>
          {rows.length} alerts{rows.length >= 10000 ? " (the first 10,000)" : ""} · page {page + 1} of{" "}
          {Math.max(1, Math.ceil(rows.length / PAGE))}
        </span>
        <button disabled={page === 0} onClick={() => setPage(page - 1)}>
          Previous
        </button>
        <button disabled={(page + 1) * PAGE >= rows.length} onClick={() => setPage(page + 1)}>
          Next
        </button>
        {cursor && <button onClick={more}>Load older</button>}
        <span class="hint">↑/↓ or j/k select · Enter opens · a acknowledges</span>
      </footer>
    </section>
  );
}
