// The sign-in form: a Postgres role and its password, checked by the gateway (POST /api/auth/login), which
// sets an HttpOnly cookie; a refusal shows the gateway's message.
import { useState, type FormEvent } from 'react';
import * as api from '../api/client';
import { ErrorNotice } from './ErrorNotice';

export function SignIn({ onSignedIn }: { onSignedIn: (role: string) => void }) {
  const [role, setRole] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const result = await api.login(role, password);
      onSignedIn(result.role);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="signin">
      <form data-testid="signin-form" onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">multidb</h1>
        <p>Sign in with your PostgreSQL role.</p>
        <label>Role<input data-testid="signin-user" autoComplete="username" value={role} required
          onChange={(e) => setRole(e.target.value)} /></label>
        <label>Password<input data-testid="signin-password" type="password" autoComplete="current-password"
          value={password} onChange={(e) => setPassword(e.target.value)} /></label>
        <button data-testid="signin-submit" type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
        {error !== null && <ErrorNotice error={error} testid="signin-error" />}
      </form>
    </main>
  );
}
