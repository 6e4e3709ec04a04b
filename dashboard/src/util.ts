// Small shared helpers: time and number formatting, severity classes.

export function time(ts: string | undefined): string {
  if (!ts) return "";
  return ts.replace("T", " ").replace(/\.\d+Z$/, "Z");
}

export function num(n: number | undefined): string {
  if (n === undefined || n === null) return "";
  if (Math.abs(n) >= 1e9) return `${(n / 1e9).toFixed(1)} G`;
  if (Math.abs(n) >= 1e6) return `${(n / 1e6).toFixed(1)} M`;
  if (Math.abs(n) >= 1e4) return `${(n / 1e3).toFixed(1)} k`;
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

export function sevClass(s: string): string {
  return `sev sev-${s.toLowerCase()}`;
}

export function endpoint(ip?: string | null, port?: number): string {
  if (!ip) return "—";
  if (port === undefined || port === null) return ip;
  return ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
}
