"""Short-lived authentication state (one-time codes, JWT revocation, user cache) kept in Redis."""

__version__ = "0.1.0"
