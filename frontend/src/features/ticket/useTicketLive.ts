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
import {
  INDICATOR_TTL_S,
  dropExpired,
  startWithNudges,
  useIndicatorBeat,
} from "../../realtime/live";

export interface TicketLive {
  people: Person[];
  /** Usernames of the others with this ticket open, and of those editing it, now. */
  viewers: string[];
  editors: string[];
  send(message: Record<string, unknown>): void;
}

export function aboutTicket(event: BoardEvent, ticketId: number): boolean {
  const data = event.data ?? {};
  return Number(data.id) === ticketId || Number(data.ticket_id) === ticketId;
}

export function useTicketLive(project: string, ticketId: number, ticketKey: string): TicketLive {
  const client = useQueryClient();
  const { data: meta } = useQuery(metaQuery);
  const socketRef = useRef<BoardSocket | null>(null);
  const [people, setPeople] = useState<Person[]>([]);
  // "editing|ann" -> expiry (ms); the server also ends them, this sweep covers a crashed peer.
  const [marks, setMarks] = useState<Map<string, number>>(() => new Map());

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
      onViewing: (indicator) => mark({ ...indicator, type: "viewing" }),
      onIndicator: (indicator: Indicator) => mark(indicator),
    });
    function mark(indicator: Omit<Indicator, "type"> & { type: string }) {
      if (indicator.ticket_id !== ticketId || indicator.type === "moving") return;
      const id = `${indicator.type}|${indicator.user}`;
      setMarks((current) => {
        const next = new Map(current);
        if (indicator.active) next.set(id, Date.now() + (indicator.ttl ?? INDICATOR_TTL_S) * 1000);
        else next.delete(id);
        return next;
      });
    }
    socketRef.current = socket;
    const stop = startWithNudges(socket);
    const sweep = setInterval(() => setMarks((current) => dropExpired(current, (e) => e)), 1000);
    return () => {
      clearInterval(sweep);
      if (timer !== null) clearTimeout(timer);
      stop();
      socketRef.current = null;
      setConnectionState("idle");
      setPeople([]);
    };
  }, [client, meta, project, ticketId, ticketKey]);

  const send = useCallback((message: Record<string, unknown>) => {
    socketRef.current?.send(message);
  }, []);

  const of = (type: string) =>
    [...marks.keys()].filter((m) => m.startsWith(`${type}|`)).map((m) => m.slice(type.length + 1));
  return { people, viewers: of("viewing"), editors: of("editing"), send };
}

/** Say "editing" (or "viewing") on the board socket every 5 s while `active`; end it after. */
export function useEditingIndicator(
  live: TicketLive,
  ticketId: number,
  active: boolean,
  type: "editing" | "viewing" = "editing",
): void {
  useIndicatorBeat(live.send, type, active ? ticketId : null);
}
