interface Props {
  title: string;
  children: string;
}

/** A screen whose feature is not built yet: says what will be here, shows no made-up data. */
export function ComingSoon({ title, children }: Props) {
  return (
    <section className="card">
      <h1>{title}</h1>
      <p className="muted">{children}</p>
      <p className="muted">This screen is not built yet.</p>
    </section>
  );
}
