// SLA: one badge per metric from the shared clock (icon + words, never colour alone) and the
// stored timeline (started, warned, breached, escalated, met...).
import { useQuery } from "@tanstack/react-query";
import { slaTimelineQuery } from "../../api/ticket";
import type { SlaEvent, TicketDetail } from "../../api/ticketTypes";
import { useNow } from "../../lib/clock";
import { metricText, metricViews, STATE_LABEL, type MetricView } from "./slaMetrics";

export function SlaPanel({ ticket }: { ticket: TicketDetail }) {
  const timeline = useQuery(slaTimelineQuery(ticket.id));
  const now = useNow();
  const views = metricViews({
    sla: ticket.sla,
    firstResponseAt: ticket.first_response_at,
    done: ticket.status_category === "done",
    events: timeline.data?.events,
    now,
  });
  return (
    <section className="side-section" aria-labelledby="sla-heading">
      <h2 id="sla-heading">SLA</h2>
      {views.length === 0 ? (
        <p className="hint">No SLA applies.</p>
      ) : (
        <ul className="sla-badges" aria-label="SLA metrics">
          {views.map((v) => (
            <li key={v.metric}>
              <MetricBadge view={v} />
            </li>
          ))}
        </ul>
      )}
      {(ticket.sla?.escalation_level ?? 0) > 0 && (
        <p className="badge escalation">Escalation level {ticket.sla?.escalation_level}</p>
      )}
      {timeline.data && timeline.data.events.length > 0 && (
        <details className="sla-timeline">
          <summary>SLA timeline ({timeline.data.events.length})</summary>
          <ol>
            {timeline.data.events.map((e) => (
              <li key={e.id}>{eventText(e)}</li>
            ))}
          </ol>
        </details>
      )}
    </section>
  );
}

export function MetricBadge({ view }: { view: MetricView }) {
  const [icon] = STATE_LABEL[view.state];
  const text = metricText(view);
  return (
    <span className={`badge sla sla-${view.state}`} data-state={view.state}>
      <span aria-hidden="true">{icon}</span> {text}
    </span>
  );
}

function eventText(e: SlaEvent): string {
  const when = new Date(e.at).toLocaleString();
  const metric = e.metric ? ` ${e.metric.replace("_", " ")}` : "";
  const level = e.level ? ` (level ${e.level})` : "";
  const by = e.actor ? ` by ${e.actor}` : "";
  return `${when}: ${e.type}${metric}${level}${by}${e.reason ? ` – ${e.reason}` : ""}`;
}
