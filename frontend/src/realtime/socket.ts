// One board socket: hello{last_seq} -> replay or resync_required; sequenced events applied in order;
// a gap (in events or heartbeats) restarts the replay from the last applied seq; reconnects with
// full-jitter backoff forever, and at once when the browser comes back online or visible.
import { backoffDelay } from "./backoff";
import type { ConnectionState } from "./connection";
import type { BoardEvent, Person } from "../api/types";

export interface SocketLike {
  readyState: number;
  send(data: string): void;
  close(code?: number): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export interface Indicator {
  type: "editing" | "moving";
  ticket_id: number;
  user: string;
  active: boolean;
  ttl?: number;
}

export interface BoardSocketOptions {
  url: string;
  /** The seq the cache holds (the board's, advanced by every applied event). */
  getSeq(): number;
  /** Apply one event whose seq is exactly getSeq() + 1; the handler advances the cache's seq. */
  apply(event: BoardEvent): void;
  /** Reload the board (resync_required, whose `seq` the fresh state is at); resolves once the cache
   *  holds the fresh board. */
  resync(seq?: number): Promise<void>;
  onState(state: ConnectionState): void;
  onPresence?(users: Person[]): void;
  onIndicator?(indicator: Indicator): void;
  /** Someone has a ticket open (the ticket page's "viewing" indicator; boards ignore it). */
  onViewing?(indicator: Omit<Indicator, "type">): void;
  onServerNow?(serverNow: string): void;
  createSocket?(url: string): SocketLike;
  random?(): number;
  setTimer?(fn: () => void, ms: number): unknown;
  clearTimer?(handle: unknown): void;
  /** How long a heartbeat may run ahead of the applied seq before we ask again (a push in flight). */
  gapGraceMs?: number;
  /** No message at all for this long: the connection is dead even if the browser has not noticed. */
  silenceMs?: number;
}

const OPEN = 1;
const CLOSE_UNAUTHENTICATED = 4401;
const CLOSE_FORBIDDEN = 4403;

export class BoardSocket {
  state: ConnectionState = "idle";
  attempt = 0;
  private socket: SocketLike | null = null;
  private stopped = false;
  private reconnectTimer: unknown = null;
  private gapTimer: unknown = null;
  private silenceTimer: unknown = null;
  private helloSent = false;
  private busy: Promise<void> | null = null;
  private queue: Record<string, unknown>[] = [];
  private readonly options: BoardSocketOptions;

  constructor(options: BoardSocketOptions) {
    this.options = options;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clear("reconnectTimer");
    this.clear("gapTimer");
    this.clear("silenceTimer");
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onclose = null;
      socket.onmessage = null;
      socket.close(1000);
    }
    this.setState("idle");
  }

  /** Send a board command (editing / moving); dropped while not connected. */
  send(message: Record<string, unknown>): boolean {
    if (!this.socket || this.socket.readyState !== OPEN || !this.helloSent) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  /** The browser came back online or visible: skip the remaining backoff. */
  nudge(): void {
    if (this.stopped || this.state === "live" || this.state === "refused") return;
    if (this.socket && this.socket.readyState <= OPEN) return;
    this.clear("reconnectTimer");
    this.connect();
  }

  /** Drop the connection as if the network had (used by tests and by the silence watchdog). */
  drop(): void {
    this.socket?.close(4000);
  }

  private connect(): void {
    if (this.stopped) return;
    this.setState(
      this.attempt === 0 && this.state !== "reconnecting" ? "connecting" : "reconnecting",
    );
    const create =
      this.options.createSocket ?? ((url: string) => new WebSocket(url) as unknown as SocketLike);
    const socket = create(this.options.url);
    this.socket = socket;
    this.helloSent = false;
    socket.onopen = () => {
      if (socket !== this.socket) return;
      this.sendHello();
      this.armSilence();
    };
    socket.onmessage = (event) => {
      if (socket !== this.socket) return;
      this.armSilence();
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(String(event.data)) as Record<string, unknown>;
      } catch {
        return;
      }
      this.receive(message);
    };
    socket.onerror = () => undefined;
    socket.onclose = (event) => {
      if (socket !== this.socket) return;
      this.socket = null;
      this.helloSent = false;
      this.clear("gapTimer");
      this.clear("silenceTimer");
      if (this.stopped) return;
      if (event.code === CLOSE_UNAUTHENTICATED || event.code === CLOSE_FORBIDDEN) {
        this.setState("refused");
        return;
      }
      this.scheduleReconnect();
    };
  }

  private sendHello(): void {
    if (!this.socket || this.socket.readyState !== OPEN) return;
    this.socket.send(JSON.stringify({ type: "hello", last_seq: this.options.getSeq() }));
    this.helloSent = true;
  }

  private scheduleReconnect(): void {
    this.setState("reconnecting");
    const delay = backoffDelay(this.attempt, this.options.random);
    this.attempt += 1;
    this.reconnectTimer = this.timer(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
  }

  private receive(message: Record<string, unknown>): void {
    if (this.busy) {
      this.queue.push(message);
      return;
    }
    const type = String(message.type ?? "");
    const seq = typeof message.seq === "number" ? message.seq : null;
    switch (type) {
      case "hello":
      case "welcome":
        if (typeof message.server_now === "string") this.options.onServerNow?.(message.server_now);
        this.becomeLive();
        return;
      case "presence":
        // Not "live" yet: live means the hello was answered (replay done, clock synced).
        this.options.onPresence?.((message.users as Person[]) ?? []);
        return;
      case "viewing":
        this.options.onViewing?.(message as unknown as Omit<Indicator, "type">);
        return;
      case "editing":
      case "moving":
        this.options.onIndicator?.(message as unknown as Indicator);
        return;
      case "resync_required":
        this.runResync(seq ?? undefined);
        return;
      case "heartbeat":
        if (seq !== null && seq > this.options.getSeq()) this.armGapCheck(seq);
        return;
      case "pong":
      case "error":
        return;
    }
    if (seq === null) return;
    const current = this.options.getSeq();
    if (seq <= current) return; // replayed or duplicated: already applied
    if (seq > current + 1) {
      this.restartReplay();
      return;
    }
    this.options.apply(message as unknown as BoardEvent);
  }

  private becomeLive(): void {
    this.attempt = 0;
    this.setState("live");
  }

  /** A gap: ask the server to replay everything after what we hold (it drops nothing it sent). */
  private restartReplay(): void {
    this.clear("gapTimer");
    this.sendHello();
  }

  private armGapCheck(heartbeatSeq: number): void {
    if (this.gapTimer !== null) return;
    this.gapTimer = this.timer(() => {
      this.gapTimer = null;
      if (this.options.getSeq() < heartbeatSeq) this.restartReplay();
    }, this.options.gapGraceMs ?? 1000);
  }

  private runResync(seq?: number): void {
    this.setState("reconnecting");
    this.busy = this.options
      .resync(seq)
      .catch(() => undefined)
      .then(() => {
        this.busy = null;
        const queued = this.queue;
        this.queue = [];
        if (this.socket) this.becomeLive();
        for (const message of queued) this.receive(message);
      });
  }

  private armSilence(): void {
    this.clear("silenceTimer");
    const silence = this.options.silenceMs ?? 60_000;
    this.silenceTimer = this.timer(() => {
      this.silenceTimer = null;
      this.drop();
    }, silence);
  }

  private setState(state: ConnectionState): void {
    if (state === this.state) return;
    this.state = state;
    this.options.onState(state);
  }

  private timer(fn: () => void, ms: number): unknown {
    return (this.options.setTimer ?? ((f: () => void, t: number) => setTimeout(f, t)))(fn, ms);
  }

  private clear(name: "reconnectTimer" | "gapTimer" | "silenceTimer"): void {
    const handle = this[name];
    if (handle !== null)
      (this.options.clearTimer ?? ((h: unknown) => clearTimeout(h as number)))(handle);
    this[name] = null;
  }
}
