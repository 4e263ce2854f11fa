"""The performance layer: code that changes what a page costs, never what it says.

Each trick here was measured; README.md in this folder lists what each replaces, what it bought
and the bench that shows it. Nothing here imports a room of the app (tests/test_import_rules.py).
"""
