"""Who has graduated, and the category change that makes them an alumnus (pure).

A student counts as graduated when the student register (Ladok, FS) shows a degree or
qualification awarded on or before the day of the run (an undated one counts too: the
register says it was awarded). The change adds the category Alumnus to the contact's
categories and keeps the others, so the person's later registration is approved as an
alumnus without a manual review.
"""

from __future__ import annotations

from datetime import date

from plugins.core.schema_map import ContactMap
from plugins.registration.model import Category
from plugins.registries.models import Degree, StudyFacts


def awarded_degree(study: StudyFacts | None, until: date) -> Degree | None:
    """The first degree awarded on or before ``until``, or None."""
    for degree in (study.degrees if study else ()):
        if degree.awarded_on is None or degree.awarded_on <= until:
            return degree
    return None


def alumnus_categories(current: str | None, columns: ContactMap) -> str | None:
    """The categories value with Alumnus added; None when it is there already."""
    categories = columns.categories_of(current)
    if Category.ALUMNUS in categories:
        return None
    return columns.categories_text(categories | {Category.ALUMNUS})
