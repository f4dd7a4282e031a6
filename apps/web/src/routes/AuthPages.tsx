import { useEffect } from 'react';
import { AuthForm } from '../features/auth/components/AuthForm';

export function SignInPage() {
  useEffect(() => {
    document.title = 'Sign in · confab';
  }, []);
  return <AuthForm mode="signin" />;
}

export function SignUpPage() {
  useEffect(() => {
    document.title = 'Sign up · confab';
  }, []);
  return <AuthForm mode="signup" />;
}
