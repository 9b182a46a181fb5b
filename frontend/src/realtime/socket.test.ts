import { describe, expect, it } from "vitest";
import { BoardSocket, type SocketLike } from "./socket";
import type { BoardEvent } from "../api/types";

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  onopen: ((e: unknown) => void) | null = null;
  onmessage: ((e: { data: unknown }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  onerror: ((e: unknown) => void) | null = null;
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close(code = 1000) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(message: Record<string, unknown>) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
}

function harness(seq = 5) {
  const sockets: FakeSocket[] = [];
  const timers: { fn: () => void; ms: number; cleared: boolean }[] = [];
  const states: string[] = [];
  const applied: number[] = [];
  let current = seq;
  let resyncs = 0;
  let finishResync: () => void = () => undefined;
  const socket = new BoardSocket({
    url: "ws://x/ws/projects/DESK/board/",
    getSeq: () => current,
    apply: (event: BoardEvent) => {
      applied.push(event.seq);
      current = event.seq;
    },
    resync: () =>
      new Promise<void>((resolve) => {
        resyncs += 1;
        finishResync = () => {
          current = 100;
          resolve();
        };
      }),
    onState: (s) => states.push(s),
    createSocket: () => {
      const s = new FakeSocket();
      sockets.push(s);
      return s;
    },
    random: () => 1,
    setTimer: (fn, ms) => {
      const t = { fn, ms, cleared: false };
      timers.push(t);
      return t;
    },
    clearTimer: (t) => {
      (t as { cleared: boolean }).cleared = true;
    },
  });
  const pending = (ms?: number) =>
    timers.filter((t) => !t.cleared && (ms === undefined || t.ms === ms));
  const fire = (t: { fn: () => void; cleared: boolean }) => {
    t.cleared = true;
    t.fn();
  };
  return {
    socket,
    sockets,
    states,
    applied,
    pending,
    fire,
    get resyncs() {
      return resyncs;
    },
    finishResync: () => finishResync(),
  };
}

describe("the board socket", () => {
  it("says hello with the last seq, applies replayed events in order and drops duplicates", () => {
    const h = harness(5);
    h.socket.start();
    h.sockets[0]!.open();
    expect(h.sockets[0]!.sent).toEqual([{ type: "hello", last_seq: 5 }]);
    for (const seq of [6, 7, 7, 6, 8])
      h.sockets[0]!.receive({ type: "ticket.moved", seq, data: {} });
    expect(h.applied).toEqual([6, 7, 8]);
    h.sockets[0]!.receive({ type: "presence", users: [] });
    expect(h.states).toEqual(["connecting"]); // presence alone is not in sync
    h.sockets[0]!.receive({ type: "hello", seq: 8, server_now: "2026-12-05T12:00:00Z" });
    expect(h.states).toEqual(["connecting", "live"]);
  });

  it("restarts the replay from what it holds on a seq gap", () => {
    const h = harness(5);
    h.socket.start();
    h.sockets[0]!.open();
    h.sockets[0]!.receive({ type: "ticket.moved", seq: 8, data: {} });
    expect(h.applied).toEqual([]);
    expect(h.sockets[0]!.sent).toEqual([
      { type: "hello", last_seq: 5 },
      { type: "hello", last_seq: 5 },
    ]);
  });

  it("asks again when a heartbeat stays ahead after the grace period, not before", () => {
    const h = harness(5);
    h.socket.start();
    h.sockets[0]!.open();
    h.sockets[0]!.receive({ type: "heartbeat", seq: 6 });
    const grace = h.pending(1000);
    expect(grace).toHaveLength(1);
    // The push was only late: once applied, the check finds nothing missing (positive control below).
    h.sockets[0]!.receive({ type: "ticket.moved", seq: 6, data: {} });
    h.fire(grace[0]!);
    expect(h.sockets[0]!.sent).toHaveLength(1);
    h.sockets[0]!.receive({ type: "heartbeat", seq: 9 });
    h.fire(h.pending(1000)[0]!);
    expect(h.sockets[0]!.sent).toEqual([
      { type: "hello", last_seq: 5 },
      { type: "hello", last_seq: 6 },
    ]);
  });

  it("reloads on resync_required and applies what arrived meanwhile after the fresh board", async () => {
    const h = harness(5);
    h.socket.start();
    h.sockets[0]!.open();
    h.sockets[0]!.receive({ type: "resync_required", seq: 100 });
    expect(h.resyncs).toBe(1);
    expect(h.states.at(-1)).toBe("reconnecting");
    h.sockets[0]!.receive({ type: "ticket.moved", seq: 100, data: {} });
    h.sockets[0]!.receive({ type: "ticket.moved", seq: 101, data: {} });
    expect(h.applied).toEqual([]);
    h.finishResync();
    await new Promise((r) => setTimeout(r, 0));
    expect(h.applied).toEqual([101]);
    expect(h.states.at(-1)).toBe("live");
  });

  it("reconnects with growing full-jitter delays, never giving up, and at once when nudged", () => {
    const h = harness(5);
    h.socket.start();
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      h.sockets.at(-1)!.close(1006);
      const timer = h.pending().find((t) => t.ms >= 1000 && t.ms !== 60_000)!;
      delays.push(timer.ms);
      h.fire(timer);
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    expect(h.sockets).toHaveLength(8);
    expect(h.states.at(-1)).toBe("reconnecting");
    h.sockets.at(-1)!.close(1006);
    h.socket.nudge();
    expect(h.sockets).toHaveLength(9);
    h.sockets.at(-1)!.open();
    h.sockets.at(-1)!.receive({ type: "hello", seq: 5, server_now: "2026-12-05T12:00:00Z" });
    expect(h.states.at(-1)).toBe("live");
    expect(h.socket.attempt).toBe(0);
  });

  it("stops on a refusal (4403) instead of retrying", () => {
    const h = harness(5);
    h.socket.start();
    h.sockets[0]!.close(4403);
    expect(h.states.at(-1)).toBe("refused");
    expect(h.pending().filter((t) => t.ms !== 60_000)).toHaveLength(0);
  });

  it("takes the server's clock from the hello answer", () => {
    let seen = "";
    const socket = new BoardSocket({
      url: "ws://x",
      getSeq: () => 1,
      apply: () => undefined,
      resync: async () => undefined,
      onState: () => undefined,
      onServerNow: (now) => (seen = now),
      createSocket: () => new FakeSocket(),
    });
    socket.start();
    (socket as unknown as { socket: FakeSocket }).socket.open();
    (socket as unknown as { socket: FakeSocket }).socket.receive({
      type: "hello",
      seq: 1,
      server_now: "2026-12-05T12:00:00Z",
    });
    expect(seen).toBe("2026-12-05T12:00:00Z");
    expect(socket.state).toBe("live");
    socket.stop();
  });
});
