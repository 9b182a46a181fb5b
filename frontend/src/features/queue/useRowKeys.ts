// The queue's keys, registered as commands (commands/registry.ts guards them): j / k move the
// focused row, x toggles its selection, Enter opens it.
import { useCommands } from "../../commands/registry";

export interface RowKeyActions {
  count: number;
  focused: number;
  focus(index: number): void;
  toggle(index: number): void;
  open(index: number): void;
}

export function useRowKeys(actions: RowKeyActions): void {
  const { count, focused, focus, toggle, open } = actions;
  useCommands([
    {
      id: "queue:next",
      title: "Next ticket",
      group: "Queue",
      keys: "j",
      palette: false,
      run: () => (count > 0 ? focus(Math.min(count - 1, focused + 1)) : false),
    },
    {
      id: "queue:previous",
      title: "Previous ticket",
      group: "Queue",
      keys: "k",
      palette: false,
      run: () => (count > 0 ? focus(Math.max(0, focused - 1)) : false),
    },
    {
      id: "queue:toggle",
      title: "Select or deselect the focused ticket",
      group: "Queue",
      keys: "x",
      palette: false,
      run: () => (focused >= 0 && focused < count ? toggle(focused) : false),
    },
    {
      id: "queue:open",
      title: "Open the focused ticket",
      group: "Queue",
      keys: "Enter",
      palette: false,
      focused: true,
      // A focused control (button, link, checkbox) keeps its own Enter.
      run: (event) => {
        const target = event?.target as HTMLElement | null;
        if (focused < 0 || (target && target.tagName !== "TR" && target !== document.body))
          return false;
        open(focused);
      },
    },
  ]);
}
