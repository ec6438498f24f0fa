"""Placeholder: real senders land with the email-code issue."""


def send_now(message):
    raise NotImplementedError


def send_in_background(message):
    raise NotImplementedError
