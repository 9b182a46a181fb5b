// The ticket page live: the project's board socket (the one live channel a ticket has). Events about
// this ticket refetch it (never touching the composer's draft); presence says who is on the project,
// editing indicators say who is editing this ticket; the shell shows Live / Reconnecting.
import { useCallback, useEffect, useRef, useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { metaQuery } from "../../api/session";
import { ticketKeys } from "../../api/ticket";
import type { BoardEvent, Person } from "../../api/types";
import { BoardSocket, type Indicator } from "../../realtime/socket";
import { setConnectionState } from "../../realtime/connection";
import { syncServerClock } from "../../lib/clock";

export interface TicketLive {
  people: Person[];
  /** Usernames of the others editing this ticket now. */
  editors: string[];
  send(message: Record<string, unknown>): void;
}

const INDICATOR_TTL_S = 15;

export function aboutTicket(event: BoardEvent, ticketId: number): boolean {
  const data = event.data ?? {};
  return Number(data.id) === ticketId || Number(data.ticket_id) === ticketId;
}

export function useTicketLive(project: string, ticketId: number, ticketKey: string): TicketLive {
  const client = useQueryClient();
  const { data: meta } = useQuery(metaQuery);
  const socketRef = useRef<BoardSocket | null>(null);
  const [people, setPeople] = useState<Person[]>([]);
  const [editing, setEditing] = useState<Map<string, number>>(() => new Map());

  useEffect(() => {
    if (!meta) return;
    // -1: we hold no board; the server answers resync_required with the seq to follow from.
    let seq = -1;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const refresh = () => {
      if (timer !== null) return;
      timer = setTimeout(() => {
        timer = null;
        void client.invalidateQueries({ queryKey: ticketKeys.byKey(ticketKey) });
        void client.invalidateQueries({ queryKey: ticketKeys.all(ticketId) });
      }, 150);
    };
    const socket = new BoardSocket({
      url: `${meta.ws_url.replace(/\/$/, "")}/ws/projects/${encodeURIComponent(project)}/board/`,
      getSeq: () => seq,
      apply: (event) => {
        seq = event.seq;
        if (aboutTicket(event, ticketId)) refresh();
      },
      resync: (at) => {
        if (seq >= 0) refresh();
        seq = at ?? 0;
        return Promise.resolve();
      },
      onState: setConnectionState,
      onPresence: setPeople,
      onServerNow: (now) => syncServerClock(now),
      onIndicator: (indicator: Indicator) => {
        // The wire names the kind in `type` ({"type": "editing", "ticket_id", "user", "active"}).
        const kind = indicator.kind ?? (indicator as unknown as { type?: string }).type;
        if (indicator.ticket_id !== ticketId || kind !== "editing") return;
        setEditing((current) => {
          const next = new Map(current);
          if (indicator.active)
            next.set(indicator.user, Date.now() + (indicator.ttl ?? INDICATOR_TTL_S) * 1000);
          else next.delete(indicator.user);
          return next;
        });
      },
    });
    socketRef.current = socket;
    socket.start();
    const nudge = () => {
      if (document.visibilityState === "visible") socket.nudge();
    };
    window.addEventListener("online", nudge);
    document.addEventListener("visibilitychange", nudge);
    const sweep = setInterval(() => {
      setEditing((current) => {
        const now = Date.now();
        if (![...current.values()].some((expires) => expires <= now)) return current;
        return new Map([...current].filter(([, expires]) => expires > now));
      });
    }, 1000);
    return () => {
      window.removeEventListener("online", nudge);
      document.removeEventListener("visibilitychange", nudge);
      clearInterval(sweep);
      if (timer !== null) clearTimeout(timer);
      socket.stop();
      socketRef.current = null;
      setConnectionState("idle");
      setPeople([]);
    };
  }, [client, meta, project, ticketId, ticketKey]);

  const send = useCallback((message: Record<string, unknown>) => {
    socketRef.current?.send(message);
  }, []);

  return { people, editors: [...editing.keys()], send };
}

/** Say "editing" on the board socket every 5 s while `active`; end it when it stops. */
export function useEditingIndicator(live: TicketLive, ticketId: number, active: boolean): void {
  const { send } = live;
  useEffect(() => {
    if (!active) return;
    send({ type: "editing", ticket_id: ticketId, active: true });
    const again = setInterval(
      () => send({ type: "editing", ticket_id: ticketId, active: true }),
      5000,
    );
    return () => {
      clearInterval(again);
      send({ type: "editing", ticket_id: ticketId, active: false });
    };
  }, [send, ticketId, active]);
}
