// What the signed-in person may do on a project's tickets (the server decides; this only hides
// controls that would certainly be refused).
import type { Me } from "../../api/types";

/** Project roles, lowest first (the server's order). */
export const ROLES = ["customer", "agent", "lead", "manager", "admin"] as const;
const ORDER = ROLES;
export type Role = (typeof ORDER)[number];

export function roleIn(me: Me, project: string): Role | null {
  if (me.is_superuser) return "admin";
  const role = me.memberships.find((m) => m.project === project)?.role;
  return (ORDER as readonly string[]).includes(role ?? "") ? (role as Role) : null;
}

/** Project admins configure the project (its columns and members): the server's rule. */
export function isAdminOf(me: Me, project: string): boolean {
  return atLeast(roleIn(me, project), "admin");
}

export function atLeast(role: Role | null, wanted: Role): boolean {
  return role !== null && ORDER.indexOf(role) >= ORDER.indexOf(wanted);
}
