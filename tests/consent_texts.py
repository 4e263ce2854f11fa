"""Layered consent texts for tests: the parts `publish_version` and `publish_translation` take.

A fresh database's current version (the migration's) has Spanish and Chinese already; a test
that needs a version without them publishes its own (`english_only_version`).
"""

from __future__ import annotations

from sqlalchemy import select

from fieldapp.consent.models import ConsentTranslation
from fieldapp.consent.services import current_version, publish_translation, publish_version
from fieldapp.extensions import db

ENGLISH = {
    "summary": "Your drawing joins a collection. Answer each question; change your mind any time.",
    "choices": {
        "keep": {"label": "Keep the drawing", "line": "A photo of it is stored."},
        "gallery": {"label": "Public gallery", "line": "On the website, for anyone."},
        "training": {"label": "Train machine learning", "line": "In datasets for models."},
        "social": {"label": "Social media", "line": "On the project's accounts."},
        "credit": {"label": "Your name", "line": "Credited by name, or anonymous."},
    },
    "text": "Thank you for drawing me.\n\nEverything about your drawing, in full.",
}

SPANISH = {
    "summary": "Tu dibujo se suma a una colección. Responde cada pregunta; puedes cambiar de "
    "opinión cuando quieras.",
    "choices": {
        "keep": {"label": "Guardar el dibujo", "line": "Se guarda una foto del dibujo."},
        "gallery": {"label": "Galería pública", "line": "En el sitio web, para cualquiera."},
        "training": {"label": "Entrenar IA", "line": "En conjuntos de datos para modelos."},
        "social": {"label": "Redes sociales", "line": "En las cuentas del proyecto."},
        "credit": {"label": "Tu nombre", "line": "Con tu nombre, o anónimo."},
    },
    "text": "Gracias por dibujarme.\n\nTodo sobre tu dibujo, completo.",
}

CHINESE = {
    "summary": "你的画将加入一个收藏。请逐一回答；你随时可以改变主意。",
    "choices": {
        "keep": {"label": "保留这幅画", "line": "保存这幅画的照片。"},
        "gallery": {"label": "公开画廊", "line": "在网站上，任何人都能看到。"},
        "training": {"label": "训练机器学习", "line": "用于训练模型的数据集。"},
        "social": {"label": "社交媒体", "line": "在项目的账号上。"},
        "credit": {"label": "你的名字", "line": "署你的名字，或匿名。"},
    },
    "text": "谢谢你画我。\n\n关于你的画的全部内容。",
}

PARTS = {"en": ENGLISH, "es": SPANISH, "zh-Hans": CHINESE}


def translate_current(app, language: str = "es") -> ConsentTranslation:
    """The current version's text in `language`: the test's own words, published now, unless
    the database already has one (the migration's real translations, once they arrive)."""
    with app.app_context():
        version = current_version(db.session)
        assert version is not None
        translation = db.session.scalar(
            select(ConsentTranslation).where(
                ConsentTranslation.version_id == version.id,
                ConsentTranslation.language == language,
            )
        )
        if translation is None:
            translation = publish_translation(db.session, version, language, **PARTS[language])
        db.session.commit()
        db.session.refresh(translation)
        db.session.expunge(translation)
        return translation


def english_only_version(app) -> int:
    """Publish a new current version in English alone (no translation yet); its number."""
    with app.app_context():
        version, _ = publish_version(db.session, **ENGLISH)
        db.session.commit()
        return version.id
