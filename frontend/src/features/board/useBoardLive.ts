// The board's socket for as long as the page is open: events -> the cache (one table), presence,
// other people's editing/moving indicators, the shared clock's server offset.
import { useCallback, useEffect, useRef, useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { boardKey } from "../../api/board";
import { metaQuery } from "../../api/session";
import type { Board, BoardEvent, Person } from "../../api/types";
import { applyBoardEvent } from "../../realtime/events";
import { BoardSocket, type Indicator } from "../../realtime/socket";
import { setConnectionState } from "../../realtime/connection";
import { isOwnMutation } from "../../realtime/ownMutations";
import { syncServerClock } from "../../lib/clock";
import {
  INDICATOR_TTL_S,
  dropExpired,
  startWithNudges,
  useIndicatorBeat,
} from "../../realtime/live";

export interface LiveIndicator {
  kind: "editing" | "moving";
  user: string;
  expires: number;
}

export interface BoardLive {
  people: Person[];
  indicators: Map<number, LiveIndicator>;
  send(message: Record<string, unknown>): void;
}

export function useBoardLive(project: string, ready: boolean): BoardLive {
  const client = useQueryClient();
  const { data: meta } = useQuery(metaQuery);
  const socketRef = useRef<BoardSocket | null>(null);
  const [people, setPeople] = useState<Person[]>([]);
  const [indicators, setIndicators] = useState<Map<number, LiveIndicator>>(() => new Map());

  useEffect(() => {
    if (!ready || !meta) return;
    const key = boardKey(project);
    let reloadTimer: ReturnType<typeof setTimeout> | null = null;
    const reload = () =>
      client.refetchQueries({ queryKey: key, exact: true }).then(() => undefined);
    const socket = new BoardSocket({
      url: `${meta.ws_url.replace(/\/$/, "")}/ws/projects/${encodeURIComponent(project)}/board/`,
      getSeq: () => client.getQueryData<Board>(key)?.seq ?? 0,
      apply: (event: BoardEvent) => {
        let needsReload = false;
        client.setQueryData<Board>(key, (board) => {
          if (!board) return board;
          // Our own move's echo: the card is already where we put it; only the seq advances.
          if (isOwnMutation(event.client_mutation_id)) return { ...board, seq: event.seq };
          const applied = applyBoardEvent(board, event);
          needsReload = applied.reload;
          return applied.board;
        });
        if (needsReload && reloadTimer === null) {
          reloadTimer = setTimeout(() => {
            reloadTimer = null;
            void reload();
          }, 300);
        }
      },
      resync: reload,
      onState: setConnectionState,
      onPresence: setPeople,
      onServerNow: (now) => syncServerClock(now),
      onIndicator: (indicator: Indicator) =>
        setIndicators((current) => {
          const next = new Map(current);
          if (indicator.active) {
            next.set(indicator.ticket_id, {
              kind: indicator.type,
              user: indicator.user,
              expires: Date.now() + (indicator.ttl ?? INDICATOR_TTL_S) * 1000,
            });
          } else if (next.get(indicator.ticket_id)?.user === indicator.user) {
            next.delete(indicator.ticket_id);
          }
          return next;
        }),
    });
    socketRef.current = socket;
    const stop = startWithNudges(socket);
    // A crashed colleague's indicator ends here too, without waiting for the server.
    const sweep = setInterval(
      () => setIndicators((current) => dropExpired(current, (i) => i.expires)),
      1000,
    );
    return () => {
      clearInterval(sweep);
      if (reloadTimer !== null) clearTimeout(reloadTimer);
      stop();
      socketRef.current = null;
      setConnectionState("idle");
      setPeople([]);
    };
  }, [client, project, ready, meta]);

  const send = useCallback((message: Record<string, unknown>) => {
    socketRef.current?.send(message);
  }, []);

  return { people, indicators, send };
}

/** Repeat an indicator every 5 s while `ticketId` is set; end it when it changes or unmounts. */
export function useIndicator(
  live: BoardLive,
  kind: "editing" | "moving",
  ticketId: number | null,
): void {
  useIndicatorBeat(live.send, kind, ticketId);
}
