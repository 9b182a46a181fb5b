// One write path for the ticket page: run a write, put the fresh ticket in the cache, refresh the
// ticket's other data (messages, audit, SLA...), and say what failed in the API's words.
import { useCallback, useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { ticketKeys } from "../../api/ticket";
import type { TicketDetail } from "../../api/ticketTypes";
import { messageOf } from "../../api/errors";
import { showToast } from "../../ui/toast";

export function useTicketWrite(ticket: TicketDetail) {
  const client = useQueryClient();
  const [busy, setBusy] = useState(false);
  /** Take a write's answer: the fresh ticket into the cache, the rest refetched. */
  const apply = useCallback(
    (result: unknown) => {
      if (result && typeof result === "object" && "key" in result && "status" in result)
        client.setQueryData(ticketKeys.byKey(ticket.key), result as TicketDetail);
      else void client.invalidateQueries({ queryKey: ticketKeys.byKey(ticket.key) });
      void client.invalidateQueries({ queryKey: ticketKeys.all(ticket.id) });
      void client.invalidateQueries({ queryKey: ["assignees", ticket.project] });
    },
    [client, ticket.id, ticket.key, ticket.project],
  );
  const run = useCallback(
    async (write: () => Promise<unknown>, done?: string): Promise<boolean> => {
      setBusy(true);
      try {
        apply(await write());
        if (done) showToast(done);
        return true;
      } catch (error) {
        showToast(messageOf(error), "error");
        return false;
      } finally {
        setBusy(false);
      }
    },
    [apply],
  );
  return { run, apply, busy };
}
