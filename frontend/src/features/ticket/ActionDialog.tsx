// A small modal for an action that needs words (resolve with a summary, reopen or escalate with a
// reason, archive to confirm). The server's refusal is shown inside, next to the field it names.
import { useState, type FormEvent, type ReactNode } from "react";
import * as Dialog from "@radix-ui/react-dialog";
import { ApiError, messageOf } from "../../api/errors";
import { fieldErrors } from "../../api/fieldErrors";

export interface ActionDialogProps {
  trigger: ReactNode;
  title: string;
  /** The text field's label; none: a confirmation. */
  fieldLabel?: string;
  /** The API's name for the field (to show details.fields.<name> next to it). */
  fieldName?: string;
  required?: boolean;
  submitLabel: string;
  children?: ReactNode;
  submit(text: string): Promise<unknown>;
  onDone(result: unknown): void;
}

export function ActionDialog(props: ActionDialogProps) {
  const [open, setOpen] = useState(false);
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [fieldError, setFieldError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setFieldError(null);
    try {
      const result = await props.submit(text.trim());
      props.onDone(result);
      setText("");
      setOpen(false);
    } catch (err) {
      const own =
        props.fieldName && err instanceof ApiError ? fieldErrors(err)[props.fieldName] : null;
      if (own) setFieldError(own);
      else setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  const fieldId = `action-${props.fieldName ?? "text"}`;
  return (
    <Dialog.Root
      open={open}
      onOpenChange={(next) => {
        setOpen(next);
        setError(null);
        setFieldError(null);
      }}
    >
      <Dialog.Trigger asChild>{props.trigger}</Dialog.Trigger>
      <Dialog.Portal>
        <Dialog.Overlay className="drawer-overlay" />
        <Dialog.Content className="modal" aria-describedby={undefined}>
          <Dialog.Title className="drawer-title">{props.title}</Dialog.Title>
          <form className="drawer-form" onSubmit={(e) => void onSubmit(e)}>
            {props.children}
            {props.fieldLabel && (
              <div className="field">
                <label htmlFor={fieldId}>{props.fieldLabel}</label>
                <textarea
                  id={fieldId}
                  rows={4}
                  value={text}
                  required={props.required}
                  aria-invalid={fieldError ? true : undefined}
                  aria-describedby={fieldError ? `${fieldId}-error` : undefined}
                  onChange={(e) => setText(e.target.value)}
                />
                {fieldError && (
                  <p id={`${fieldId}-error`} className="field-error">
                    {fieldError}
                  </p>
                )}
              </div>
            )}
            {error && (
              <p role="alert" className="form-error">
                {error}
              </p>
            )}
            <div className="form-actions">
              <button type="submit" className="primary" disabled={busy}>
                {props.submitLabel}
              </button>
              <Dialog.Close asChild>
                <button type="button">Cancel</button>
              </Dialog.Close>
            </div>
          </form>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}
