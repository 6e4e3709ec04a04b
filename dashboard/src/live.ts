// The live alert feed over /ws/alerts: reconnects with exponential backoff and reports its
// state for the connection indicator.

import { Alert, current } from "./api";

export type LinkState = "connecting" | "live" | "lagging" | "down";

export class Feed {
  private ws: WebSocket | null = null;
  private delay = 1000;
  private stopped = false;
  private timer: number | undefined;

  constructor(
    private onAlert: (a: Alert) => void,
    private onState: (s: LinkState, detail?: string) => void,
  ) {}

  start() {
    this.stopped = false;
    this.open();
  }

  stop() {
    this.stopped = true;
    window.clearTimeout(this.timer);
    this.ws?.close();
  }

  private open() {
    const s = current();
    if (!s) return;
    this.onState("connecting");
    const proto = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${proto}://${location.host}/ws/alerts`);
    this.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ token: current()?.access_token }));
    ws.onmessage = (ev) => {
      let msg: any;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (msg.type === "hello") {
        this.delay = 1000;
        this.onState("live");
      } else if (msg.type === "lagged") {
        this.onState("lagging", `missed ${msg.missed} alerts`);
      } else if (msg.type === undefined && msg.id) {
        this.onAlert(msg as Alert);
      }
    };
    ws.onclose = () => {
      if (this.stopped) return;
      this.onState("down", `retrying in ${Math.round(this.delay / 1000)} s`);
      this.timer = window.setTimeout(() => this.open(), this.delay);
      this.delay = Math.min(this.delay * 2, 30000);
    };
  }
}
