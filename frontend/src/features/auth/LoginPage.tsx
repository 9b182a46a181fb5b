import { useState, type FormEvent } from "react";
import { useNavigate } from "@tanstack/react-router";
import { useSignIn } from "../../api/session";
import { messageOf } from "../../api/errors";
import { safeNext } from "./next";

export function LoginPage({ next }: { next: string | undefined }) {
  const signIn = useSignIn();
  const navigate = useNavigate();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");

  async function submit(event: FormEvent) {
    event.preventDefault();
    try {
      await signIn.mutateAsync({ username, password });
    } catch {
      return; // shown below from the mutation's error
    }
    await navigate({ href: safeNext(next) });
  }

  return (
    <main className="login">
      <form className="login-card" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">Sign in to Helpline</h1>
        <label>
          Username
          <input
            name="username"
            autoComplete="username"
            required
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        {signIn.isError && (
          <p role="alert" className="form-error">
            {messageOf(signIn.error)}
          </p>
        )}
        <button type="submit" className="primary" disabled={signIn.isPending}>
          Sign in
        </button>
      </form>
    </main>
  );
}
