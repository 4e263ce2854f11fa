"""The ledger's one setting: the goal."""

from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange

from fieldapp.ledger.services import MAX_GOAL


class GoalForm(FlaskForm):
    goal = IntegerField(
        "Goal (drawings)",
        validators=[
            InputRequired(message="Give the number of drawings you aim for."),
            NumberRange(min=1, max=MAX_GOAL, message=f"A whole number from 1 to {MAX_GOAL:,}."),
        ],
    )
