// The project's members: their roles (changed at once), removal (confirmed), adding by username.
import { useEffect, useRef, useState, type FormEvent } from "react";
import { useQuery } from "@tanstack/react-query";
import { membersQuery } from "../../api/board";
import { messageOf } from "../../api/errors";
import { fieldErrors } from "../../api/fieldErrors";
import { useAddMember, useChangeRole, useRemoveMember } from "../../api/projectSettings";
import type { Member } from "../../api/types";
import { showToast } from "../../ui/toast";
import { FormField } from "../create/FormField";
import { ActionDialog } from "../ticket/ActionDialog";
import { ROLES, type Role } from "../ticket/roles";
import { LoadFailed } from "./LoadFailed";

const nameOf = (m: Member) => m.full_name || m.username;

export function MembersSection({ project }: { project: string }) {
  const members = useQuery(membersQuery(project));
  const change = useChangeRole(project);
  const remove = useRemoveMember(project);

  async function setRole(member: Member, role: Role) {
    try {
      await change.mutateAsync({ username: member.username, role });
      showToast(`${nameOf(member)} is now ${role === "admin" ? "an" : "a"} ${role}.`);
    } catch (error) {
      showToast(`Could not change ${nameOf(member)}'s role: ${messageOf(error)}`, "error");
    }
  }

  if (members.isError)
    return (
      <LoadFailed what="the members" error={members.error} retry={() => void members.refetch()} />
    );
  if (members.isPending) return <p role="status">Loading members…</p>;

  const list = [...members.data].sort((a, b) => nameOf(a).localeCompare(nameOf(b)));
  return (
    <>
      {list.length === 0 ? (
        <p className="empty">No members yet.</p>
      ) : (
        <div className="table-wrap">
          <table className="settings-members" aria-label="Members">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Username</th>
                <th scope="col">Role</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((member) => {
                const pending =
                  change.isPending && change.variables.username === member.username
                    ? change.variables.role
                    : null;
                return (
                  <tr key={member.username}>
                    <td>{nameOf(member)}</td>
                    <td>{member.username}</td>
                    <td>
                      <select
                        aria-label={`Role of ${nameOf(member)}`}
                        value={pending ?? member.role}
                        disabled={pending !== null}
                        onChange={(e) => void setRole(member, e.target.value as Role)}
                      >
                        {ROLES.map((role) => (
                          <option key={role} value={role}>
                            {role}
                          </option>
                        ))}
                      </select>
                    </td>
                    <td>
                      <ActionDialog
                        trigger={
                          <button
                            type="button"
                            className="danger"
                            aria-label={`Remove ${nameOf(member)}`}
                          >
                            Remove
                          </button>
                        }
                        title={`Remove ${nameOf(member)} from ${project}?`}
                        submitLabel="Remove"
                        submit={() => remove.mutateAsync(member.username)}
                        onDone={() => showToast(`Removed ${nameOf(member)} from ${project}.`)}
                      >
                        <p>They will no longer see {project}&apos;s tickets or board.</p>
                      </ActionDialog>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <AddMember project={project} />
    </>
  );
}

function AddMember({ project }: { project: string }) {
  const add = useAddMember(project);
  const [username, setUsername] = useState("");
  const [role, setRole] = useState<Role>("agent");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  // A refused username gets the focus: its error is its description.
  useEffect(() => {
    if (errors.username) input.current?.focus();
  }, [errors]);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setErrors({});
    setFormError(null);
    try {
      await add.mutateAsync({ username: username.trim(), role });
      showToast(`Added ${username.trim()} to ${project} as ${role}.`);
      setUsername("");
    } catch (error) {
      const fields = fieldErrors(error);
      const own = Object.fromEntries(
        Object.entries(fields).filter(([field]) => field === "username" || field === "role"),
      );
      setErrors(own);
      if (Object.keys(own).length === 0) setFormError(messageOf(error));
    }
  }

  return (
    <form
      className="settings-card add-member"
      aria-label="Add a member"
      noValidate
      onSubmit={(e) => void onSubmit(e)}
    >
      <h3>Add a member</h3>
      <div className="add-member-fields">
        <FormField id="member-username" label="Username" error={errors.username}>
          <input
            ref={input}
            value={username}
            autoComplete="off"
            spellCheck={false}
            onChange={(e) => setUsername(e.target.value)}
          />
        </FormField>
        <FormField id="member-role" label="Role" error={errors.role}>
          <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </FormField>
        <button type="submit" className="primary" disabled={add.isPending}>
          {add.isPending ? "Adding…" : formError ? "Try again" : "Add member"}
        </button>
      </div>
      {formError && (
        <p role="alert" className="form-error">
          Not added: {formError}
        </p>
      )}
    </form>
  );
}
