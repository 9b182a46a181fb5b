// `/ws/me/`: the signed-in person's own messages (notifications for the bell and the inbox, export
// progress, classification). The app's only client of it: one socket for the whole app while
// anyone listens (`useMeSocket`); reconnects forever with the board's
// full-jitter backoff (and at once when the browser comes back online or visible). Each (re)connect
// delivers {type: "welcome"} to the listeners: this socket has no replay, so they refetch.
import { useEffect, useRef } from "react";
import { useQuery } from "@tanstack/react-query";
import { backoffDelay } from "./backoff";
import { metaQuery } from "../api/session";

export type MeMessage = { type: string } & Record<string, unknown>;
type Listener = (message: MeMessage) => void;

const CLOSE_REFUSED = new Set([4401, 4403]);

export class MeSocket {
  private listeners = new Set<Listener>();
  private socket: WebSocket | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  private url = "";

  subscribe(url: string, listener: Listener): () => void {
    this.url = url;
    this.listeners.add(listener);
    if (this.listeners.size === 1) this.connect();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.close();
    };
  }

  nudge = (): void => {
    if (this.listeners.size === 0 || this.socket || document.visibilityState !== "visible") return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.connect();
  };

  private connect(): void {
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.onmessage = (event) => {
      let message: MeMessage;
      try {
        message = JSON.parse(String(event.data)) as MeMessage;
      } catch {
        return;
      }
      if (!message || typeof message !== "object" || typeof message.type !== "string") return;
      if (message.type === "welcome") this.attempt = 0;
      for (const listener of this.listeners) listener(message);
    };
    socket.onclose = (event) => {
      if (socket !== this.socket) return;
      this.socket = null;
      if (CLOSE_REFUSED.has(event.code) || this.listeners.size === 0) return;
      const delay = backoffDelay(this.attempt);
      this.attempt += 1;
      this.timer = setTimeout(() => {
        this.timer = null;
        this.connect();
      }, delay);
    };
  }

  private close(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000);
  }
}

const me = new MeSocket();
if (typeof window !== "undefined") {
  window.addEventListener("online", me.nudge);
  document.addEventListener("visibilitychange", me.nudge);
}

/** Listen to /ws/me/ while mounted (the latest `listener` is called; it need not be stable). */
export function useMeSocket(listener: Listener): void {
  const { data: meta } = useQuery(metaQuery);
  const latest = useRef(listener);
  useEffect(() => {
    latest.current = listener;
  });
  useEffect(() => {
    if (!meta) return;
    return me.subscribe(`${meta.ws_url.replace(/\/$/, "")}/ws/me/`, (m) => latest.current(m));
  }, [meta]);
}
