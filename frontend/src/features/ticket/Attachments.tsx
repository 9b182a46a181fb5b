// Attachments: upload with progress (XHR), the server's size/type refusals in words, image and
// PDF previews, downloads through the signed link; on a sensitive ticket, views are audited.
import { useRef, useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { attachmentsQuery, ticketKeys } from "../../api/ticket";
import type { Attachment, TicketDetail } from "../../api/ticketTypes";
import { formatBytes, refusalText, uploadAttachment } from "../../api/attachments";
import { ApiError, messageOf } from "../../api/errors";

export function Attachments({ ticket }: { ticket: TicketDetail }) {
  const client = useQueryClient();
  const list = useQuery(attachmentsQuery(ticket.id));
  const input = useRef<HTMLInputElement>(null);
  const [progress, setProgress] = useState<{ name: string; fraction: number } | null>(null);
  const [refusal, setRefusal] = useState<string | null>(null);
  const [preview, setPreview] = useState<Attachment | null>(null);

  async function upload(file: File) {
    setRefusal(null);
    setProgress({ name: file.name, fraction: 0 });
    try {
      await uploadAttachment(ticket.id, file, (fraction) =>
        setProgress({ name: file.name, fraction }),
      ).done;
      void client.invalidateQueries({ queryKey: ticketKeys.all(ticket.id) });
    } catch (error) {
      setRefusal(
        `${file.name} was not uploaded: ${error instanceof ApiError ? refusalText(error) : messageOf(error)}`,
      );
    } finally {
      setProgress(null);
      if (input.current) input.current.value = "";
    }
  }

  return (
    <div className="attachments">
      {ticket.is_sensitive && (
        <p className="notice notice-sensitive">Each view or download of these files is audited.</p>
      )}
      <div className="upload">
        <label htmlFor="attachment-file">Upload a file</label>
        <input
          id="attachment-file"
          ref={input}
          type="file"
          disabled={progress !== null}
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (file) void upload(file);
          }}
        />
        {progress && (
          <div className="upload-progress" role="status">
            Uploading {progress.name}{" "}
            <progress value={progress.fraction} max={1} aria-label={`Uploading ${progress.name}`} />{" "}
            {Math.round(progress.fraction * 100)}%
          </div>
        )}
        {refusal && (
          <p role="alert" className="form-error">
            {refusal}
          </p>
        )}
      </div>
      {list.isPending && <p className="loading">Loading the attachments…</p>}
      {list.isError && (
        <div role="alert" className="inline-error">
          {messageOf(list.error)}{" "}
          <button type="button" onClick={() => void list.refetch()}>
            Retry
          </button>
        </div>
      )}
      {list.data && (
        <ul className="files" aria-label="Files">
          {list.data.length === 0 && <li className="empty">No attachments.</li>}
          {list.data.map((a) => (
            <li key={a.id} className="file">
              <a href={a.download_url} download={a.filename}>
                {a.filename}
              </a>
              <span className="hint">
                {formatBytes(a.size)} · {a.content_type} · {a.uploaded_by ?? "someone"}
              </span>
              {previewable(a) && (
                <button type="button" onClick={() => setPreview(preview?.id === a.id ? null : a)}>
                  {preview?.id === a.id ? "Hide preview" : `Preview ${a.filename}`}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {preview && <Preview attachment={preview} />}
    </div>
  );
}

function previewable(a: Attachment): boolean {
  return a.content_type.startsWith("image/") || a.content_type === "application/pdf";
}

function Preview({ attachment }: { attachment: Attachment }) {
  const src = `${attachment.download_url}?inline=true`;
  return (
    <figure className="preview">
      {attachment.content_type === "application/pdf" ? (
        <iframe src={src} title={`Preview of ${attachment.filename}`} />
      ) : (
        <img src={src} alt={`Preview of ${attachment.filename}`} />
      )}
      <figcaption>{attachment.filename}</figcaption>
    </figure>
  );
}
