"""Forms of the account pages (CSRF-protected by Flask-WTF)."""

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length, ValidationError

from fieldapp.auth.services import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, password_problem


def _acceptable_password(_form, field) -> None:
    if problem := password_problem(field.data or ""):
        raise ValidationError(problem)


class SetupForm(FlaskForm):
    username = StringField("Username", validators=[InputRequired(), Length(max=64)])
    password = PasswordField(
        "Password",
        validators=[InputRequired(), _acceptable_password],
        description=f"At least {MIN_PASSWORD_LENGTH} characters.",
    )
    confirm = PasswordField(
        "Password again", validators=[InputRequired(), EqualTo("password", "The passwords differ.")]
    )


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[InputRequired(), Length(max=64)])
    password = PasswordField(
        "Password", validators=[InputRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )


class LogoutForm(FlaskForm):
    """Only the CSRF token: logging out is a POST, so no other site can do it for us."""


class ChangePasswordForm(FlaskForm):
    current = PasswordField(
        "Current password", validators=[InputRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )
    password = PasswordField(
        "New password",
        validators=[InputRequired(), _acceptable_password],
        description=f"At least {MIN_PASSWORD_LENGTH} characters. Every other device and every "
        "API token is signed out.",
    )
    confirm = PasswordField(
        "New password again",
        validators=[InputRequired(), EqualTo("password", "The passwords differ.")],
    )


class RevokeForm(FlaskForm):
    """Only the CSRF token: signing a device out or revoking a token is a POST."""
