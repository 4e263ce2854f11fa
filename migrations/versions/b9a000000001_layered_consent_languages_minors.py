"""Layered consent in several languages, and minors.

- `consent_versions` gains its language, a short summary and one line per choice
  (`choice_texts`, JSON): all hashed with the text (fieldapp/consent/texts.py). Versions
  published before keep their text-only hash. Plain ADD COLUMNs: the versions' triggers refuse
  every UPDATE, and no row is updated here.
- `consent_translations`: a version in another language, immutable like the version (the
  same triggers: no UPDATE, no DELETE of a text an encounter records, no TRUNCATE).
- `encounters` gains `consent_language` (NULL: the version's own), `age_group` ("adult" for
  every existing encounter) and `guardian_agreed`; `consent_events` gains `guardian_agreed`.
  Plain ADD COLUMNs: a batch copy of `encounters` would drop its tally triggers (b8b000000001).
- If the consent in force is still the first version's text, the layered first text is
  published as the next version with its Spanish and Chinese translations. A text the
  collector wrote stays in force. On PostgreSQL the id sequence of `consent_versions` is first
  moved past version 1, which the first migration inserted with its id.

Revision ID: b9a000000001
Revises: b8b000000001
Create Date: 2026-12-06 21:00:00
"""

import hashlib
import json
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

import fieldapp.database

revision = "b9a000000001"
down_revision = "b8b000000001"
branch_labels = None
depends_on = None

# The text of version 1 (f046ff5fe6ca), by its SHA-256.
FIRST_TEXT_SHA256 = "f4bcb5481b8cd212d0376e6666c0c441902873016bfd73c637fff8bfd9cda0e5"

LAYERED = json.loads(
    r"""[
 {
  "language": "en",
  "summary": "Your drawing joins a collection of 10,000 portraits of the artist, each drawn by a different person, to show the human work behind the images that machine learning learns from. Nothing is chosen for you: answer each question below. With your QR code you can change your mind, or withdraw the drawing, at any time.",
  "choices": {
   "keep": {
    "label": "Keep the drawing",
    "line": "A photo of it is stored in the collection. No photo of you, no location."
   },
   "gallery": {
    "label": "Show it in the public gallery",
    "line": "On the project's website, where anyone can see it."
   },
   "training": {
    "label": "Use it to train machine learning",
    "line": "In datasets that teach computer models to make or read images."
   },
   "social": {
    "label": "Post it on social media",
    "line": "On the project's accounts, such as Instagram."
   },
   "credit": {
    "label": "Your name",
    "line": "Credit the drawing to the name you give, or stay anonymous: then no name is stored."
   }
  },
  "text": "Thank you for drawing me.\n\nThis drawing is part of Let Me Collect Myself: one artist is collecting 10,000 portraits of himself, each drawn in person by a different person, to make visible how much human work goes into the image collections that machine-learning models learn from.\n\nYour drawing gets a number. You choose what may happen to it, one thing at a time, and nothing is chosen for you: whether the collection keeps it (a photo of the drawing is stored only if you say yes); whether it is shown in the public gallery on the project's website; whether it may be part of datasets used to train machine-learning models; whether it may be posted on social media. Whatever you answer no to will not happen.\n\nYou can be credited by the name you give, or stay anonymous. If you stay anonymous, no name is stored.\n\nIf you are under 18, your drawing is never credited by name, never used to train machine-learning models and never posted on social media, and it is shown in the public gallery only if a parent or guardian agrees.\n\nNo photo of you is taken and no location is recorded: only the kind of place (a bar, a party, a fair...), the occasion and the city.\n\nThe QR code you receive leads to your drawing. With it you can change these choices or withdraw your drawing at any time. A withdrawn drawing is deleted from the website and left out of every dataset made afterwards. Copies that others downloaded before you withdrew are out of our reach, and we will say so honestly."
 },
 {
  "language": "es",
  "summary": "Tu dibujo se une a una colección de 10,000 retratos del artista, cada uno de alguien distinto, para mostrar el trabajo humano detrás de las imágenes con las que aprenden las máquinas. No elegimos nada por ti: responde cada pregunta. Con tu código QR puedes cambiar de opinión o retirar el dibujo cuando quieras.",
  "choices": {
   "keep": {
    "label": "Guardar el dibujo",
    "line": "Una foto del dibujo queda en la colección. Ninguna foto tuya, ni ubicación."
   },
   "gallery": {
    "label": "Mostrarlo en la galería pública",
    "line": "En el sitio web del proyecto, donde cualquiera puede verlo."
   },
   "training": {
    "label": "Usarlo para entrenar IA",
    "line": "En datos que enseñan a programas de computadora a crear o leer imágenes."
   },
   "social": {
    "label": "Publicarlo en redes sociales",
    "line": "En las cuentas del proyecto, como Instagram."
   },
   "credit": {
    "label": "Tu nombre",
    "line": "Crédito al nombre que des, o anónimo: en ese caso no se guarda ningún nombre."
   }
  },
  "text": "Gracias por dibujarme.\n\nEste dibujo es parte de Let Me Collect Myself: un artista está reuniendo 10,000 retratos de sí mismo, cada uno dibujado en persona por alguien distinto, para hacer visible cuánto trabajo humano hay en las colecciones de imágenes con las que aprenden los modelos de aprendizaje automático (machine learning).\n\nTu dibujo recibe un número. Tú decides qué puede pasar con él, una cosa a la vez, y nada se elige por ti: si la colección lo guarda (solo se guarda una foto del dibujo si dices que sí); si se muestra en la galería pública del sitio web del proyecto; si puede formar parte de conjuntos de datos que se usan para entrenar modelos de aprendizaje automático; si se puede publicar en redes sociales. Si dices que no a algo, eso no se hará.\n\nTu dibujo puede llevar el nombre que nos des, o puedes quedar en el anonimato. Si eliges el anonimato, no se guarda ningún nombre.\n\nSi tienes menos de 18 años, tu dibujo nunca lleva tu nombre, nunca se usa para entrenar modelos de aprendizaje automático y nunca se publica en redes sociales, y solo se muestra en la galería pública si tu madre, tu padre o tu tutor legal está de acuerdo.\n\nNo se te toma ninguna foto ni se registra ninguna ubicación: solo el tipo de lugar (un bar, una fiesta, una feria...), la ocasión y la ciudad.\n\nEl código QR que recibes lleva a tu dibujo. Con él puedes cambiar estas decisiones o retirar tu dibujo cuando quieras. Un dibujo retirado se borra del sitio web y queda fuera de todo conjunto de datos que se haga después. Las copias que otras personas hayan descargado antes de que lo retiraras están fuera de nuestro alcance, y te lo diremos con honestidad."
 },
 {
  "language": "zh-Hans",
  "summary": "你的画将加入一个由一万幅艺术家肖像组成的合集，每幅都出自不同的人之手，用来展示机器学习所用图像背后的人类劳动。我们不替你做任何选择：请逐一回答下面的问题。凭你的二维码，你随时可以改变主意，或撤回这幅画。",
  "choices": {
   "keep": {
    "label": "保留这幅画",
    "line": "画的照片会存入合集。不拍你本人，不记录位置。"
   },
   "gallery": {
    "label": "在公开画廊展示",
    "line": "放在项目网站上，任何人都能看到。"
   },
   "training": {
    "label": "用于机器学习训练",
    "line": "放进数据集，用来教电脑模型生成或识别图像。"
   },
   "social": {
    "label": "发到社交媒体",
    "line": "发在项目的账号上，比如 Instagram。"
   },
   "credit": {
    "label": "你的署名",
    "line": "用你给的名字署名，或保持匿名：匿名则不保存任何名字。"
   }
  },
  "text": "谢谢你为我画像。\n\n这幅画属于 Let Me Collect Myself 项目：一位艺术家正在收集一万幅他本人的肖像，每一幅都由不同的人当面画成，为的是让人看见，机器学习模型用来学习的图像合集里，包含了多少人类劳动。\n\n你的画会得到一个编号。它可以被怎样使用，由你一项一项决定，我们不会替你做任何选择：合集是否保留它（只有你同意，才会保存这幅画的照片）；是否在项目网站的公开画廊展示；是否可以放进用于训练机器学习模型的数据集；是否可以发到社交媒体上。凡是你回答“不”的，都不会发生。\n\n你可以用你提供的名字署名，也可以保持匿名。如果选择匿名，我们不会保存任何名字。\n\n如果你未满18岁，你的画永远不会署名，永远不会用于训练机器学习模型，也永远不会发到社交媒体上；只有在父母或监护人同意时，才会在公开画廊展示。\n\n我们不会拍你本人的照片，也不会记录位置：只记录场所类型（酒吧、派对、集市……）、场合和所在城市。\n\n你收到的二维码会打开你的画的页面。凭它，你可以随时更改这些选择，或撤回你的画。撤回的画会从网站上删除，之后制作的任何数据集都不会包含它。在你撤回之前已被别人下载的副本，我们无法收回，对此我们会如实告知。"
 }
]"""
)

TRIGGERS = {
    "consent_translations_no_update": """
        CREATE TRIGGER consent_translations_no_update BEFORE UPDATE ON consent_translations
        BEGIN
            SELECT RAISE(ABORT, 'consent versions are immutable: publish a new version');
        END""",
    "consent_translations_no_delete_used": """
        CREATE TRIGGER consent_translations_no_delete_used BEFORE DELETE ON consent_translations
        WHEN EXISTS (SELECT 1 FROM encounters WHERE consent_version_id = OLD.version_id
                     AND consent_language = OLD.language)
        BEGIN
            SELECT RAISE(ABORT, 'this consent translation is recorded by an encounter');
        END""",
}
POSTGRESQL_FUNCTIONS = {
    "fieldapp_refuse_delete_used_translation": """
        CREATE FUNCTION fieldapp_refuse_delete_used_translation() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM encounters WHERE consent_version_id = OLD.version_id
                       AND consent_language = OLD.language) THEN
                RAISE EXCEPTION 'this consent translation is recorded by an encounter'
                    USING ERRCODE = 'restrict_violation';
            END IF;
            RETURN OLD;
        END $$""",
}
IMMUTABLE = "'consent versions are immutable: publish a new version'"
POSTGRESQL_TRIGGERS = {
    "consent_translations_no_update": (
        "BEFORE UPDATE ON consent_translations FOR EACH ROW "
        f"EXECUTE FUNCTION fieldapp_refuse({IMMUTABLE})"
    ),
    "consent_translations_no_delete_used": (
        "BEFORE DELETE ON consent_translations FOR EACH ROW "
        "EXECUTE FUNCTION fieldapp_refuse_delete_used_translation()"
    ),
    "consent_translations_no_truncate": (
        "BEFORE TRUNCATE ON consent_translations FOR EACH STATEMENT "
        f"EXECUTE FUNCTION fieldapp_refuse({IMMUTABLE})"
    ),
}


def _sha256(part: dict) -> str:
    canonical = json.dumps(
        {k: part[k] for k in ("language", "summary", "choices", "text")},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def upgrade():
    op.add_column(
        "consent_versions",
        sa.Column("language", sa.String(length=16), server_default="en", nullable=False),
    )
    op.add_column(
        "consent_versions", sa.Column("summary", sa.Text(), server_default="", nullable=False)
    )
    op.add_column(
        "consent_versions",
        sa.Column("choice_texts", sa.Text(), server_default="", nullable=False),
    )
    translations = op.create_table(
        "consent_translations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("choice_texts", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", fieldapp.database.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["consent_versions.id"],
            name=op.f("fk_consent_translations_version_id_consent_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_translations")),
        sa.UniqueConstraint(
            "version_id", "language", name=op.f("uq_consent_translations_version_id")
        ),
    )
    op.add_column("encounters", sa.Column("consent_language", sa.String(length=16)))
    op.add_column(
        "encounters",
        sa.Column("age_group", sa.String(length=8), server_default="adult", nullable=False),
    )
    op.add_column(
        "encounters",
        sa.Column("guardian_agreed", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "consent_events",
        sa.Column("guardian_agreed", sa.Boolean(), server_default=sa.false(), nullable=False),
    )

    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in TRIGGERS.values():
            op.execute(statement)
    elif dialect == "postgresql":
        for statement in POSTGRESQL_FUNCTIONS.values():
            op.execute(statement)
        for name, definition in POSTGRESQL_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {definition}")

    _publish_layered_first_text(translations)


def _publish_layered_first_text(translations) -> None:
    bind = op.get_bind()
    current = bind.execute(
        sa.text("SELECT id, sha256 FROM consent_versions ORDER BY id DESC LIMIT 1")
    ).first()
    if bind.dialect.name == "postgresql" and current is not None:
        # Version 1 was inserted with its id, which left the id sequence behind it: the next
        # version (here, or published from the app) would collide with it.
        bind.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence('consent_versions', 'id'), "
                "(SELECT MAX(id) FROM consent_versions))"
            )
        )
    if current is None or current.sha256 != FIRST_TEXT_SHA256:
        return
    now = datetime.now(timezone.utc)
    own, *others = LAYERED
    versions = sa.table(
        "consent_versions",
        sa.column("language", sa.String),
        sa.column("summary", sa.Text),
        sa.column("choice_texts", sa.Text),
        sa.column("text", sa.Text),
        sa.column("sha256", sa.String),
        sa.column("created_at", fieldapp.database.UTCDateTime()),
    )
    version_id = bind.execute(
        versions.insert().returning(sa.literal_column("id")),
        [_row(own, now)],
    ).scalar_one()
    for part in others:
        bind.execute(translations.insert().values(dict(_row(part, now), version_id=version_id)))


def _row(part: dict, now: datetime) -> dict:
    return {
        "language": part["language"],
        "summary": part["summary"],
        "choice_texts": json.dumps(
            part["choices"], sort_keys=True, ensure_ascii=False, separators=(",", ":")
        ),
        "text": part["text"],
        "sha256": _sha256(part),
        "created_at": now,
    }


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    elif dialect == "postgresql":
        for name in POSTGRESQL_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON consent_translations")
        for name in POSTGRESQL_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_table("consent_translations")
    # The layered versions no encounter records go (their hash covers more than the text).
    op.execute(
        "DELETE FROM consent_versions WHERE summary != '' AND id NOT IN "
        "(SELECT consent_version_id FROM encounters WHERE consent_version_id IS NOT NULL)"
    )
    op.drop_column("consent_events", "guardian_agreed")
    op.drop_column("encounters", "guardian_agreed")
    op.drop_column("encounters", "age_group")
    op.drop_column("encounters", "consent_language")
    op.drop_column("consent_versions", "choice_texts")
    op.drop_column("consent_versions", "summary")
    op.drop_column("consent_versions", "language")
