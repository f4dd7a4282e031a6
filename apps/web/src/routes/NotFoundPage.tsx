import { Link } from 'react-router';

export function NotFoundPage() {
  return (
    <div className="center-note">
      <h1>Page not found</h1>
      <Link to="/" className="button primary">
        Back to chats
      </Link>
    </div>
  );
}
