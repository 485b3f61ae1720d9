import { Link } from 'wouter';

/** What a page that needs an account shows an anonymous visitor, instead of a refused call. */
export function SignInRequired({ title, what }: { title: string; what: string }) {
  return (
    <section aria-labelledby="sign-in-required">
      <h1 id="sign-in-required">{title}</h1>
      <p>
        You need an account to {what}. <Link href="/account">Sign in or sign up</Link>; the conversations of this
        browser come along.
      </p>
    </section>
  );
}
