import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MeSocket, type MeMessage } from "./me";

class FakeWebSocket {
  static all: FakeWebSocket[] = [];
  onmessage: ((e: { data: unknown }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  closedWith: number | null = null;
  constructor(readonly url: string) {
    FakeWebSocket.all.push(this);
  }
  close(code = 1000) {
    this.closedWith = code;
    this.onclose?.({ code });
  }
  receive(message: unknown) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
}

const URL = "ws://x/ws/me/";

describe("MeSocket (the one /ws/me/ client)", () => {
  beforeEach(() => {
    FakeWebSocket.all = [];
    vi.stubGlobal("WebSocket", FakeWebSocket);
    vi.useFakeTimers();
    vi.spyOn(Math, "random").mockReturnValue(1);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
    vi.restoreAllMocks();
  });

  it("shares one socket between listeners and closes it after the last leaves", () => {
    const socket = new MeSocket();
    const bell: MeMessage[] = [];
    const exports: MeMessage[] = [];
    const leaveBell = socket.subscribe(URL, (m) => bell.push(m));
    const leaveExports = socket.subscribe(URL, (m) => exports.push(m));
    expect(FakeWebSocket.all).toHaveLength(1);
    FakeWebSocket.all[0]!.receive({ type: "notification", id: 1 });
    FakeWebSocket.all[0]!.onmessage?.({ data: "not json" });
    FakeWebSocket.all[0]!.onmessage?.({ data: "null" });
    expect(bell).toEqual([{ type: "notification", id: 1 }]);
    expect(exports).toEqual(bell);
    leaveBell();
    expect(FakeWebSocket.all[0]!.closedWith).toBeNull();
    leaveExports();
    expect(FakeWebSocket.all[0]!.closedWith).toBe(1000);
    vi.runAllTimers();
    expect(FakeWebSocket.all).toHaveLength(1); // no reconnect once nobody listens
  });

  it("reconnects with the growing full-jitter backoff, reset by a welcome", () => {
    const socket = new MeSocket();
    socket.subscribe(URL, () => undefined);
    FakeWebSocket.all[0]!.onclose?.({ code: 1006 });
    vi.advanceTimersByTime(999);
    expect(FakeWebSocket.all).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeWebSocket.all).toHaveLength(2); // attempt 0: 1 s
    FakeWebSocket.all[1]!.onclose?.({ code: 1006 });
    vi.advanceTimersByTime(1999);
    expect(FakeWebSocket.all).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(FakeWebSocket.all).toHaveLength(3); // attempt 1: up to 2 s
    FakeWebSocket.all[2]!.receive({ type: "welcome", user: "ann" });
    FakeWebSocket.all[2]!.onclose?.({ code: 1006 });
    vi.advanceTimersByTime(1000);
    expect(FakeWebSocket.all).toHaveLength(4); // back to 1 s
  });

  it("gives up when the server refuses the person (4401, 4403)", () => {
    const socket = new MeSocket();
    socket.subscribe(URL, () => undefined);
    FakeWebSocket.all[0]!.onclose?.({ code: 4403 });
    vi.runAllTimers();
    expect(FakeWebSocket.all).toHaveLength(1);
  });
});
