import { describe, expect, it } from "vitest";
import type { Sla } from "../../api/types";
import { metricText, metricViews } from "./slaMetrics";

const NOW = Date.parse("2026-12-05T12:00:00Z");
const MIN = 60_000;
const at = (ms: number) => new Date(NOW + ms).toISOString();

function sla(overrides: Partial<Sla> = {}): Sla {
  return {
    policy: 1,
    state: "on_track",
    first_response_due_at: at(30 * MIN),
    resolution_due_at: at(8 * 60 * MIN),
    paused: false,
    escalation_level: 0,
    breached: false,
    ...overrides,
  };
}

const base = { firstResponseAt: null, done: false, now: NOW };

describe("metricViews", () => {
  it("gives one on-track badge per running metric with the time left", () => {
    const views = metricViews({ ...base, sla: sla() });
    expect(views.map(metricText)).toEqual([
      "First response: On track, 30m left",
      "Resolution: On track, 8h 00m left",
    ]);
  });

  it("marks the metric due first as near breach when the server says so", () => {
    const views = metricViews({ ...base, sla: sla({ state: "near_breach" }) });
    expect(views.map((v) => v.state)).toEqual(["near_breach", "on_track"]);
  });

  it("marks a metric warned in the timeline as near breach", () => {
    const views = metricViews({
      ...base,
      sla: sla(),
      events: [
        {
          id: 1,
          type: "warned",
          metric: "resolution",
          cycle: 1,
          level: null,
          at: at(0),
          reason: "",
          actor: null,
        },
      ],
    });
    expect(views.map((v) => v.state)).toEqual(["on_track", "near_breach"]);
  });

  it("turns breached with negative time once the due time passes on the clock", () => {
    const input = { ...base, sla: sla({ state: "near_breach", first_response_due_at: at(MIN) }) };
    expect(metricText(metricViews(input)[0]!)).toBe("First response: Near breach, 1m left");
    const later = metricViews({ ...input, now: NOW + 4 * MIN })[0]!;
    expect([later.state, later.remaining]).toEqual(["breached", -3 * MIN]);
    expect(metricText(later)).toBe("First response: Breached, -3m");
  });

  it("says paused without a countdown", () => {
    const views = metricViews({ ...base, sla: sla({ state: "paused", paused: true }) });
    expect(views.map(metricText)).toEqual(["First response: Paused", "Resolution: Paused"]);
  });

  it("says met for a first response given, and for both once done", () => {
    const responded = metricViews({ ...base, firstResponseAt: at(-MIN), sla: sla() });
    expect(responded.map((v) => v.state)).toEqual(["met", "on_track"]);
    const done = metricViews({ ...base, done: true, sla: sla({ state: "met" }) });
    expect(done.map(metricText)).toEqual(["First response: Met", "Resolution: Met"]);
  });

  it("shows nothing without an SLA", () => {
    expect(metricViews({ ...base, sla: null })).toEqual([]);
    expect(metricViews({ ...base, sla: sla({ state: "no_sla" }) })).toEqual([]);
  });
});
