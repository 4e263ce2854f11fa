"""The installable field app: manifest, icons, service worker, offline page and the phone's outbox."""
