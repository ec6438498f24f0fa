"""Multi-factor authentication (docs/mfa.md): authenticator apps (TOTP, :mod:`.totp`),
recovery codes (:mod:`.recovery`), what factors a user has and checking a second-step code
(:mod:`.factors`), secrets encrypted at rest (:mod:`.crypto`), reauthentication
(:mod:`.reauth`) and what every factor change does (:mod:`.changes`)."""
