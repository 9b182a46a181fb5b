// One `/ws/me/` per signed-in shell: a notification refreshes the bell and the inbox.
import { useEffect } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { metaQuery } from "../api/session";
import { NOTIFICATIONS_KEY } from "../api/notifications";
import { MeSocket } from "../realtime/meSocket";

export function useMeSocket(enabled: boolean): void {
  const client = useQueryClient();
  const { data: meta } = useQuery({ ...metaQuery, enabled });
  useEffect(() => {
    if (!enabled || !meta) return;
    const socket = new MeSocket(`${meta.ws_url.replace(/\/$/, "")}/ws/me/`, (message) => {
      if (message.type === "notification") {
        void client.invalidateQueries({ queryKey: NOTIFICATIONS_KEY });
      }
    });
    socket.open();
    return () => socket.close();
  }, [client, enabled, meta]);
}
