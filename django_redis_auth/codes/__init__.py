"""One-time codes: issuing and checking them (:mod:`.otp`), what they are for (:mod:`.purposes`)
and the mail that carries them (:mod:`.senders`)."""
