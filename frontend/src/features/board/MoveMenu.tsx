// "Move DESK-42": the pointer-free way to move a card (another column, top, bottom).
// Memoized, and only the open menu's items read the board: every card has one, and a move or a
// drag's end must not re-render 250 menus.
import { memo } from "react";
import * as DropdownMenu from "@radix-ui/react-dropdown-menu";
import type { Ticket } from "../../api/types";
import { useBoardCtx } from "./context";
import { announce } from "./announcer";

interface Props {
  ticket: Ticket;
  columnId: number;
  index: number;
}

export const MoveMenu = memo(function MoveMenu({ ticket, columnId, index }: Props) {
  return (
    <DropdownMenu.Root>
      <DropdownMenu.Trigger className="icon-button move-button" aria-label={`Move ${ticket.key}`}>
        <span aria-hidden="true">⋯</span>
      </DropdownMenu.Trigger>
      <DropdownMenu.Portal>
        <DropdownMenu.Content className="menu" align="end" sideOffset={4}>
          <MoveMenuItems ticket={ticket} columnId={columnId} index={index} />
        </DropdownMenu.Content>
      </DropdownMenu.Portal>
    </DropdownMenu.Root>
  );
});

function MoveMenuItems({ ticket, columnId, index }: Props) {
  const { board, move } = useBoardCtx();
  const column = board.columns.find((c) => c.id === columnId);
  const last = (column?.tickets.length ?? 1) - 1;
  function go(toColumn: number, toIndex: number, where: string) {
    if (move(ticket.id, toColumn, toIndex) === "moved") announce(`${ticket.key} moved ${where}.`);
  }
  return (
    <>
      <DropdownMenu.Label className="menu-label">Move {ticket.key}</DropdownMenu.Label>
      <DropdownMenu.Item
        className="menu-item"
        disabled={index === 0}
        onSelect={() => go(columnId, 0, "to the top")}
      >
        To the top
      </DropdownMenu.Item>
      <DropdownMenu.Item
        className="menu-item"
        disabled={index === last}
        onSelect={() => go(columnId, last, "to the bottom")}
      >
        To the bottom
      </DropdownMenu.Item>
      <DropdownMenu.Separator className="menu-separator" />
      {board.columns
        .filter((c) => c.id !== columnId)
        .map((c) => (
          <DropdownMenu.Item
            key={c.id}
            className="menu-item"
            onSelect={() =>
              go(c.id, c.next === null ? c.tickets.length : c.tickets.length, `to ${c.name}`)
            }
          >
            To {c.name}
          </DropdownMenu.Item>
        ))}
    </>
  );
}
