"""The ticket sheet form: which paper, how many pages of labels."""

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField
from wtforms.fields.choices import SelectChoice

from fieldapp.tickets.sheet import LABELS_PER_PAGE, MAX_PAGES, PAPERS


class TicketSheetForm(FlaskForm):
    paper = RadioField(
        "Paper",
        choices=[SelectChoice(key, paper.name) for key, paper in PAPERS.items()],
        default="a4",
    )
    pages = SelectField(
        "How many labels",
        choices=[
            SelectChoice(n, f"{n} page{'s' if n > 1 else ''}: {n * LABELS_PER_PAGE} tickets")
            for n in range(1, MAX_PAGES + 1)
        ],
        coerce=int,
        default=1,
    )
