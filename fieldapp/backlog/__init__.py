"""The backlog import: photos of drawings made before the app, and a phone's rescue zip."""
