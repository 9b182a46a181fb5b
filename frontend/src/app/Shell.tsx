// The signed-in frame: brand, navigation, project switcher, connection state, user menu, and the
// command palette and "?" sheet (every key binding goes through commands/registry.ts).
import { Link, Outlet, useNavigate } from "@tanstack/react-router";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import * as DropdownMenu from "@radix-ui/react-dropdown-menu";
import { meQuery, useSignOut } from "../api/session";
import { messageOf } from "../api/errors";
import { NOTIFICATIONS_KEY } from "../api/notifications";
import { showToast } from "../ui/toast";
import { isStaff, NAV } from "./nav";
import { ConnectionStatus } from "./ConnectionStatus";
import { NewTicketButton } from "../features/create/NewTicketButton";
import { Bell } from "./Bell";
import { useMeSocket } from "../realtime/me";
import { useCommandKeys, useCommands, runCommand } from "../commands/registry";
import { Palette } from "../commands/Palette";
import { SHEET_COMMAND, ShortcutSheet } from "../commands/ShortcutSheet";
import { staffProjects, useCurrentProject } from "./currentProject";
import type { Me } from "../api/types";
import { isAdminOf } from "../features/ticket/roles";

export function Shell() {
  const { data: me } = useQuery(meQuery);
  const client = useQueryClient();
  const project = useCurrentProject(me);
  const navigate = useNavigate();
  useCommandKeys();
  // A notification refreshes the bell and the inbox; after a reconnect (no replay) so does welcome.
  useMeSocket((message) => {
    if (message.type === "notification" || message.type === "welcome")
      void client.invalidateQueries({ queryKey: NOTIFICATIONS_KEY });
  });
  const links = me
    ? NAV.filter((item) => item.visible?.(me) ?? true).flatMap((item) => {
        const href = item.href(project);
        return href ? [{ label: item.label, href }] : [];
      })
    : [];
  useCommands(
    links.map((link) => ({
      id: `nav:${link.label}`,
      title: `Go to ${link.label}`,
      group: "Navigation",
      run: () => void navigate({ href: link.href }),
    })),
  );
  if (!me) return null;
  const staff = isStaff(me);
  return (
    <div className="shell">
      <header className="topbar">
        <Link to="/" className="brand">
          Helpline
        </Link>
        <nav aria-label="Main" className="main-nav">
          {links.map((link) => (
            <a
              key={link.label}
              href={link.href}
              onClick={(e) => {
                if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
                e.preventDefault();
                void navigate({ href: link.href });
              }}
            >
              {link.label}
            </a>
          ))}
        </nav>
        <ProjectSwitcher me={me} current={project} />
        <div className="topbar-end">
          {staff && <NewTicketButton />}
          <ConnectionStatus />
          <Bell />
          <UserMenu me={me} project={project} />
        </div>
      </header>
      <main className="page" id="main">
        <Outlet />
      </main>
      <Palette staff={staff} />
      <ShortcutSheet />
    </div>
  );
}

function ProjectSwitcher({ me, current }: { me: Me; current: string | null }) {
  const navigate = useNavigate();
  const projects = me.memberships.filter((m) => m.role !== "customer");
  if (projects.length === 0) return null;
  // A site admin on a project they are not a member of: that project, by its key.
  const foreign = current !== null && !staffProjects(me).includes(current);
  return (
    <label className="project-switcher">
      <span className="visually-hidden">Project</span>
      <select
        value={current ?? ""}
        onChange={(e) =>
          void navigate({ to: "/projects/$key/board", params: { key: e.target.value } })
        }
      >
        {current === null && <option value="">Choose a project</option>}
        {foreign && <option value={current}>{current}</option>}
        {projects.map((m) => (
          <option key={m.project} value={m.project}>
            {m.project_name} ({m.project})
          </option>
        ))}
      </select>
    </label>
  );
}

export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) return "?";
  if (parts.length === 1) return parts[0]!.slice(0, 2).toUpperCase();
  return (parts[0]![0]! + parts[parts.length - 1]![0]!).toUpperCase();
}

function UserMenu({ me, project }: { me: Me; project: string | null }) {
  const signOut = useSignOut();
  const navigate = useNavigate();
  const name = me.full_name || me.username;
  async function out() {
    try {
      await signOut.mutateAsync();
      await navigate({ to: "/login", search: {} });
    } catch (error) {
      showToast(messageOf(error), "error");
    }
  }
  return (
    <DropdownMenu.Root>
      <DropdownMenu.Trigger className="user-button" aria-label={`User menu: ${name}`}>
        <span className="avatar" aria-hidden="true">
          {initials(name)}
        </span>
        <span className="user-name">{name}</span>
      </DropdownMenu.Trigger>
      <DropdownMenu.Portal>
        <DropdownMenu.Content className="menu" align="end" sideOffset={6}>
          <DropdownMenu.Label className="menu-label">Signed in as {me.username}</DropdownMenu.Label>
          {project && isAdminOf(me, project) && (
            <DropdownMenu.Item className="menu-item" asChild>
              <Link to="/projects/$key/settings" params={{ key: project }}>
                {project} settings
              </Link>
            </DropdownMenu.Item>
          )}
          {me.is_superuser && (
            <DropdownMenu.Item className="menu-item" asChild>
              <a href="/admin/">Django admin</a>
            </DropdownMenu.Item>
          )}
          <DropdownMenu.Item className="menu-item" onSelect={() => runCommand(SHEET_COMMAND)}>
            Keyboard shortcuts
          </DropdownMenu.Item>
          <DropdownMenu.Item className="menu-item" onSelect={() => void out()}>
            Sign out
          </DropdownMenu.Item>
        </DropdownMenu.Content>
      </DropdownMenu.Portal>
    </DropdownMenu.Root>
  );
}
