// The inbox: open alert groups (detector + signature, source, destination), newest first,
// with actions on a whole group and "suppress from now on".

import { useEffect, useState } from "preact/hooks";
import { call, canChange, Group, query } from "../api";
import { sevClass, time } from "../util";

export function Inbox(props: { tick: number; onError: (e: unknown) => void }) {
  const [groups, setGroups] = useState<Group[]>([]);
  const [partial, setPartial] = useState(false);
  const [status, setStatus] = useState("");

  const load = () =>
    call<{ groups: Group[]; partial: boolean }>("GET", `/api/v1/alerts/groups${query({ status, limit: 200 })}`)
      .then((r) => {
        setGroups(r.groups);
        setPartial(r.partial);
      })
      .catch(props.onError);

  useEffect(() => {
    load();
  }, [props.tick, status]);

  const act = async (g: Group, to: string) => {
    try {
      await call("PATCH", "/api/v1/alerts/groups", { key: g.key, status: to });
      await load();
    } catch (e) {
      props.onError(e);
    }
  };

  const suppressForever = async (g: Group) => {
    const reason = prompt(`Suppress "${g.signature_name}" from ${g.key.src_ip ?? "any source"} from now on. Why?`);
    if (!reason) return;
    try {
      await call("POST", "/api/v1/filters", {
        signature: g.key.signature,
        detector: g.key.detector,
        src: g.key.src_ip ?? undefined,
        reason,
      });
      await act(g, "SUPPRESSED");
    } catch (e) {
      props.onError(e);
    }
  };

  return (
    <section>
      <header class="bar">
        <h2>Inbox</h2>
        <label>
          Status{" "}
          <select value={status} onChange={(e) => setStatus((e.target as HTMLSelectElement).value)}>
            <option value="">open</option>
            <option>NEW</option>
            <option>ACKNOWLEDGED</option>
            <option>SUPPRESSED</option>
            <option>RESOLVED</option>
          </select>
        </label>
        {partial && <span class="warn">partial: the query ran out of time</span>}
      </header>
      <table class="grid" data-testid="inbox">
        <thead>
          <tr>
            <th>Severity</th>
            <th>Count</th>
            <th>Signature</th>
            <th>Source</th>
            <th>Destination</th>
            <th>Last seen</th>
            <th>New / Ack</th>
            {canChange() && <th>Actions</th>}
          </tr>
        </thead>
        <tbody>
          {groups.map((g) => (
            <tr key={`${g.key.detector}|${g.key.signature}|${g.key.src_ip}|${g.key.dst_ip}`}>
              <td>
                <span class={sevClass(g.max_severity)}>{g.max_severity}</span>
              </td>
              <td class="num">{g.count}</td>
              <td>
                <a href={`#/alerts?detector=${encodeURIComponent(g.key.detector)}&src_ip=${g.key.src_ip ?? ""}`}>
                  {g.signature_name}
                </a>
                <div class="sub">
                  {g.attack_type} · {g.key.detector} · {g.key.signature}
                </div>
              </td>
              <td class="mono">{g.key.src_ip ?? "—"}</td>
              <td class="mono">{g.key.dst_ip ?? "—"}</td>
              <td class="mono">{time(g.last_seen)}</td>
              <td class="num">
                {g.statuses[0]} / {g.statuses[1]}
              </td>
              {canChange() && (
                <td class="actions">
                  <button onClick={() => act(g, "ACKNOWLEDGED")}>Ack</button>
                  <button onClick={() => act(g, "RESOLVED")}>Resolve</button>
                  <button onClick={() => act(g, "SUPPRESSED")}>Suppress</button>
                  <button onClick={() => suppressForever(g)} title="Create a filter for new alerts">
                    Suppress from now on
                  </button>
                </td>
              )}
            </tr>
          ))}
          {groups.length === 0 && (
            <tr>
              <td colSpan={8} class="empty">
                Nothing here.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}
