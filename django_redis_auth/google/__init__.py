"""Google sign-in over social-auth and google-auth: the service, the backend, the pipeline steps
and the views."""
