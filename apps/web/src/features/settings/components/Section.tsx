import { useId } from 'react';

/** One titled card of the settings page, a landmark named by its heading. */
export function Section({
  title,
  description,
  children,
  tone,
}: {
  title: string;
  description?: React.ReactNode;
  children: React.ReactNode;
  tone?: 'danger';
}) {
  const id = useId();
  return (
    <section className={`panel${tone ? ` ${tone}` : ''}`} aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {description && <p className="panel-description">{description}</p>}
      {children}
    </section>
  );
}
