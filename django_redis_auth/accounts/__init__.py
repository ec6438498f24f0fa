"""Sign-up, sign-in and password reset flows, account self-service, the user model as the flows see
it, the user cache and the password guard."""
