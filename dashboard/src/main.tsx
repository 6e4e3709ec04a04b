// The dashboard: login, then the inbox, the live alert table, an alert's detail, the
// overview with charts and capture status, flows and devices. Hash routes; the alert feed
// runs while logged in and the header shows its state.

import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import "uplot/dist/uPlot.min.css";
import "./style.css";
import { Alert, ApiError, current, isReport, login, logout } from "./api";
import { report } from "./report";
import { Feed, LinkState } from "./live";
import { Alerts, Filters } from "./views/alerts";
import { Detail } from "./views/detail";
import { Inbox } from "./views/inbox";
import { Overview } from "./views/overview";
import { Devices, Flows } from "./views/tables";

function Login(props: { onDone: () => void }) {
  const [user, setUser] = useState("");
  const [pass, setPass] = useState("");
  const [err, setErr] = useState("");
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      await login(user, pass);
      props.onDone();
    } catch (x) {
      setErr(x instanceof Error ? x.message : String(x));
    }
  };
  return (
    <form class="login" onSubmit={submit}>
      <h1>netsec</h1>
      <label>
        User name
        <input name="username" autoComplete="username" value={user} onInput={(e) => setUser((e.target as HTMLInputElement).value)} />
      </label>
      <label>
        Password
        <input name="password" type="password" autoComplete="current-password" value={pass} onInput={(e) => setPass((e.target as HTMLInputElement).value)} />
      </label>
      <button type="submit">Log in</button>
      {err && <p class="warn" role="alert">{err}</p>}
    </form>
  );
}

function route(): { view: string; arg: string; params: URLSearchParams } {
  const h = location.hash.replace(/^#\/?/, "");
  const [path, q] = h.split("?");
  const [view, arg] = path.split("/");
  return { view: view || "inbox", arg: arg ?? "", params: new URLSearchParams(q ?? "") };
}

function App() {
  const [authed, setAuthed] = useState(!!current());
  const [r, setR] = useState(route());
  const [live, setLive] = useState<Alert[]>([]);
  const [link, setLink] = useState<{ s: LinkState; d?: string }>({ s: "connecting" });
  const [unseen, setUnseen] = useState(0);
  const [tick, setTick] = useState(0);
  const [error, setError] = useState("");

  useEffect(() => {
    const on = () => setR(route());
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  useEffect(() => {
    if (!authed || isReport()) return;
    const feed = new Feed(
      (a) => {
        setLive((old) => [...old.slice(-9999), a]);
        setUnseen((n) => n + 1);
      },
      (s, d) => setLink({ s, d }),
    );
    feed.start();
    const t = window.setInterval(() => setTick((n) => n + 1), 10000);
    return () => {
      feed.stop();
      window.clearInterval(t);
    };
  }, [authed]);

  const onError = (e: unknown) => {
    if (e instanceof ApiError && e.status === 401) {
      logout();
      setAuthed(false);
      return;
    }
    setError(e instanceof Error ? e.message : String(e));
  };

  if (!authed) return <Login onDone={() => setAuthed(true)} />;
  const nav = (view: string, label: string, badge?: number) => (
    <a href={`#/${view}`} class={r.view === view ? "active" : ""}>
      {label}
      {badge ? <span class="badge">{badge}</span> : null}
    </a>
  );
  const initial: Partial<Filters> = Object.fromEntries(r.params.entries());
  return (
    <div class="shell">
      <nav class="top">
        <strong>netsec</strong>
        {nav("inbox", "Inbox")}
        {nav("alerts", "Alerts", unseen)}
        {nav("overview", "Overview")}
        {nav("flows", "Flows")}
        {nav("devices", "Devices")}
        {isReport() ? (
          <span class="link" data-testid="link" title="a frozen report: no server, no network">
            report: {report?.title}
          </span>
        ) : (
          <>
            <span class={`link link-${link.s}`} data-testid="link" title={link.d ?? ""}>
              ● {link.s}
              {link.d ? ` (${link.d})` : ""}
            </span>
            <span class="who">
              {current()?.name} ({current()?.role})
            </span>
            <button
              onClick={() => {
                logout();
                setAuthed(false);
              }}
            >
              Log out
            </button>
          </>
        )}
      </nav>
      {error && (
        <div class="error" role="alert" onClick={() => setError("")}>
          {error} (click to dismiss)
        </div>
      )}
      <main>
        {r.view === "inbox" && <Inbox tick={tick + live.length} onError={onError} />}
        {r.view === "alerts" && <Alerts live={live} initial={initial} onError={onError} onSeen={() => setUnseen(0)} />}
        {r.view === "alert" && <Detail id={r.arg} onError={onError} />}
        {r.view === "overview" && <Overview tick={tick} onError={onError} />}
        {r.view === "flows" && <Flows onError={onError} />}
        {r.view === "devices" && <Devices onError={onError} />}
      </main>
    </div>
  );
}

const root = document.getElementById("app");
if (root) render(<App />, root);
