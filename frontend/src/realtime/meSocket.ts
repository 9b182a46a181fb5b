// `/ws/me/`: the signed-in person's own socket (notifications, export progress, classifications).
// Reconnects with the shared full-jitter backoff; listeners get every message.
import { backoffDelay } from "./backoff";

export type MeMessage = { type: string } & Record<string, unknown>;
type Listener = (message: MeMessage) => void;

export class MeSocket {
  private socket: WebSocket | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly listener: Listener,
  ) {}

  open(): void {
    this.closed = false;
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.onopen = () => {
      this.attempt = 0;
    };
    socket.onmessage = (event: MessageEvent<string>) => {
      let message: unknown;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message && typeof message === "object" && "type" in message) {
        this.listener(message as MeMessage);
      }
    };
    socket.onclose = (event) => {
      this.socket = null;
      // 4401/4403: not signed in or not allowed; retrying would not help.
      if (this.closed || event.code === 4401 || event.code === 4403) return;
      this.timer = setTimeout(() => this.open(), backoffDelay(this.attempt++));
    };
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.socket?.close();
    this.socket = null;
  }
}
