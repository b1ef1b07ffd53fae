"""What every page shares: the warehouse, the chosen month, the language and the page shown."""

from __future__ import annotations

from pathlib import Path

import param

from amazing_assets.defs.segments.profiles import ACTIONS, action_for
from panel_app import data
from panel_app.i18n import DEFAULT_LANGUAGE, LANGUAGES, label

PAGES = (
    "overview",
    "profiles",
    "explorer",
    "migration",
    "value",
    "quality",
    "outcomes",
    "customer",
)

# Segment names in French for tables that carry only the English name (migration flows).
FRENCH_NAMES = {name: action.name_fr for name, action in ACTIONS.items()}


class AppState(param.Parameterized):
    """One per browser session; pages watch ``month`` and ``language``."""

    warehouse_uri = param.String(doc="warehouse root (local directory or s3://bucket/prefix)")
    key_file = param.ClassSelector(
        class_=Path, allow_None=True, doc="embedded default's pseudonymisation key file"
    )
    month: param.Selector[str | None] = param.Selector(objects=[], allow_None=True)
    language: param.Selector[str] = param.Selector(
        objects=list(LANGUAGES.values()), default=DEFAULT_LANGUAGE
    )
    page: param.Selector[str] = param.Selector(objects=list(PAGES), default="overview")

    def __init__(self, **params) -> None:
        super().__init__(**params)
        months = data.available_months(self.warehouse_uri)
        self.param.month.objects = months
        if months and self.month not in months:
            self.month = months[-1]

    @property
    def months(self) -> list[str]:
        return list(self.param.month.objects)

    @property
    def previous_month(self) -> str | None:
        return data.previous_month(self.months, self.month) if self.month else None

    def t(self, key: str) -> str:
        return label(key, self.language)

    def segment_name(self, english_name: str) -> str:
        if self.language == "fr":
            return FRENCH_NAMES.get(english_name) or french_name(english_name)
        return english_name


def french_name(english_name: str) -> str:
    """A qualified neutral name in French ("… — moins de produits vus"); unknown names as is."""
    try:
        return action_for(english_name).name_fr
    except KeyError:
        return english_name
