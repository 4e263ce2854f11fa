"""From the laptop to the phone: `make run-phone` (`python -m fieldapp.phone`).

Caddy, with its own certificate authority, serves the app over HTTPS on the laptop's address on
the wifi, so that the artist's phone can install the app and run its service worker; the trust
page (`views.py`, /phone) hands the phone that authority's root certificate with the steps to
trust it, over plain HTTP, since the phone cannot trust a certificate before it has it.
"""
