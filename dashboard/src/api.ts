// The server's REST API: the session's tokens, JSON in and out, errors as thrown ApiError.

export type { Alert, Group, GroupKey, Severity, Status } from "./types";
export { SEVERITIES, STATUSES } from "./types";
import { report, reportCall } from "./report";

export class ApiError extends Error {
  constructor(public status: number, public code: string, message: string) {
    super(message);
  }
}

const KEY = "netsec.session";

interface Session {
  access_token: string;
  refresh_token: string;
  name?: string;
  role?: string;
}

/// Whether this page is a report (data embedded, read-only, no server).
export function isReport(): boolean {
  return report !== null;
}

let session: Session | null = (() => {
  if (report) return { access_token: "", refresh_token: "", name: "report", role: "viewer" };
  try {
    return JSON.parse(sessionStorage.getItem(KEY) ?? "null");
  } catch {
    return null;
  }
})();

export function current(): Session | null {
  return session;
}

function save(s: Session | null) {
  session = s;
  if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
  else sessionStorage.removeItem(KEY);
}

export function logout() {
  save(null);
}

async function raw(method: string, path: string, body?: unknown, token?: string): Promise<Response> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers["Authorization"] = `Bearer ${token}`;
  return fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

async function parse<T>(res: Response): Promise<T> {
  if (res.status === 204) return undefined as T;
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const e = data?.error ?? {};
    throw new ApiError(res.status, e.code ?? "error", e.message ?? res.statusText);
  }
  return data as T;
}

export async function login(username: string, password: string): Promise<void> {
  const tokens = await parse<Session>(await raw("POST", "/api/v1/auth/login", { username, password }));
  save(tokens);
  const me = await call<{ name: string; role: string }>("GET", "/api/v1/auth/me");
  save({ ...tokens, name: me.name, role: me.role });
}

/// One API call; an expired access token is refreshed once.
export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  if (report) {
    try {
      return reportCall(method, path) as T;
    } catch (e) {
      throw new ApiError(404, "not_in_report", e instanceof Error ? e.message : String(e));
    }
  }
  if (!session) throw new ApiError(401, "unauthorized", "not logged in");
  let res = await raw(method, path, body, session.access_token);
  if (res.status === 401 && session.refresh_token) {
    const r = await raw("POST", "/api/v1/auth/refresh", { refresh_token: session.refresh_token });
    if (r.ok) {
      const t = await r.json();
      save({ ...session, access_token: t.access_token, refresh_token: t.refresh_token });
      res = await raw(method, path, body, session.access_token);
    } else {
      save(null);
    }
  }
  return parse<T>(res);
}

export function query(params: Record<string, string | number | undefined>): string {
  const q = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== "")
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join("&");
  return q ? `?${q}` : "";
}

export function canChange(): boolean {
  return session?.role === "analyst" || session?.role === "admin";
}

export function isAdmin(): boolean {
  return session?.role === "admin";
}
