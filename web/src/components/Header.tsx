// The top bar: the product's name, the role the browser is signed in as, and Sign out.
export function Header({ role, onSignOut }: { role: string; onSignOut: () => void }) {
  return (
    <header className="header">
      <span className="brand">multidb</span>
      <span className="who">Signed in as <strong data-testid="whoami">{role}</strong></span>
      <button type="button" data-testid="signout" onClick={onSignOut}>Sign out</button>
    </header>
  );
}
