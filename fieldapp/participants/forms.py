"""The forms a participant uses on their page: change choices, withdraw. CSRF-protected."""

from __future__ import annotations

from flask_wtf import FlaskForm

from fieldapp.consent.forms import ChoicesForm

__all__ = ["ChoicesForm", "WithdrawForm"]


class WithdrawForm(FlaskForm):
    """The confirmation step of a withdrawal: the button is the only field."""
