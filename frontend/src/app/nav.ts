// The shell's navigation, one entry per feature. Part-2 features add a line here.
import type { Me } from "../api/types";

export interface NavItem {
  label: string;
  /** The path for the current project (null when the item needs a project and there is none). */
  href(project: string | null): string | null;
  visible?(me: Me): boolean;
}

export const isStaff = (me: Me) =>
  me.is_superuser === true || me.memberships.some((m) => m.role !== "customer");

export const NAV: NavItem[] = [
  {
    label: "Board",
    href: (project) => (project ? `/projects/${project}/board` : null),
    visible: isStaff,
  },
  { label: "Tickets", href: () => "/tickets", visible: isStaff },
  { label: "Exports", href: () => "/exports", visible: isStaff },
  { label: "Dashboard", href: () => "/dashboard", visible: isStaff },
  { label: "Portal", href: () => "/portal", visible: (me) => !isStaff(me) },
  { label: "Inbox", href: () => "/inbox" },
];
