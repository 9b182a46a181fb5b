// The queue's live marks: one board socket per project in view (the board's own protocol, started
// from the board's current seq). A colleague's ticket.* / sla.* event marks the ticket; rows never
// move under the pointer, the page offers "N updated - show" instead.
import { useCallback, useEffect, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { boardSeq } from "../../api/queue";
import { metaQuery } from "../../api/session";
import type { BoardEvent } from "../../api/types";
import { BoardSocket } from "../../realtime/socket";
import { setConnectionState, type ConnectionState } from "../../realtime/connection";
import { syncServerClock } from "../../lib/clock";

export interface QueueLive {
  changed: ReadonlySet<number>;
  /** The socket had to resync: something changed, we cannot say what. */
  stale: boolean;
  clear(): void;
}

const RANK: ConnectionState[] = ["refused", "reconnecting", "connecting", "idle", "live"];

export function isColleagueTicketEvent(event: BoardEvent, me: string): number | null {
  if (!/^(ticket|sla)\./.test(event.type)) return null;
  if (event.actor?.username === me) return null;
  const id = event.data?.id;
  return typeof id === "number" ? id : null;
}

export function useQueueLive(projects: readonly string[], me: string): QueueLive {
  const { data: meta } = useQuery(metaQuery);
  const [changed, setChanged] = useState<ReadonlySet<number>>(() => new Set());
  const [stale, setStale] = useState(false);
  const key = projects.join(",");

  useEffect(() => {
    if (!meta || !key) return;
    const sockets: BoardSocket[] = [];
    const states = new Map<string, ConnectionState>();
    let cancelled = false;
    const report = () =>
      setConnectionState(RANK.find((s) => [...states.values()].includes(s)) ?? "idle");
    for (const project of key.split(",")) {
      let seq = 0;
      const socket = new BoardSocket({
        url: `${meta.ws_url.replace(/\/$/, "")}/ws/projects/${encodeURIComponent(project)}/board/`,
        getSeq: () => seq,
        apply: (event) => {
          seq = event.seq;
          const id = isColleagueTicketEvent(event, me);
          if (id !== null)
            setChanged((current) => (current.has(id) ? current : new Set(current).add(id)));
        },
        resync: async () => {
          seq = await boardSeq(project);
          setStale(true);
        },
        onState: (state) => {
          states.set(project, state);
          report();
        },
        onServerNow: (now) => syncServerClock(now),
      });
      boardSeq(project)
        .then((current) => {
          if (cancelled) return;
          seq = current;
          sockets.push(socket);
          socket.start();
        })
        .catch(() => states.set(project, "refused"));
    }
    return () => {
      cancelled = true;
      for (const socket of sockets) socket.stop();
      setConnectionState("idle");
    };
  }, [meta, key, me]);

  const clear = useCallback(() => {
    setChanged(new Set());
    setStale(false);
  }, []);
  return { changed, stale, clear };
}
