import { Link } from 'react-router';

export function ThreadNotFound() {
  return (
    <div className="center-note">
      <h1>Chat not found</h1>
      <p>This chat does not exist, or it is not yours.</p>
      <Link to="/" className="button primary">
        Start a new chat
      </Link>
    </div>
  );
}
