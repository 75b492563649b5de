"""The words of a finding's detail in any language, from the keys its facts keep.

Findings are stored, so their facts stay as they always were: Vietnamese texts for the message
(``missing_components``, ``differing_fields``, ``missing_on``, ``national_status_label``) next to
the keys they were made from (``missing_component_keys``, ``differing_field_keys``,
``missing_on_keys``, ``national_status``). A reader in another language gets the detail rebuilt
from those keys through the catalog (``checks/locale``); a fact without its keys (an old row) is
shown as stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from checks.contracts import FactValue
from checks.i18n import Language, gettext
from checks.publication import catalog_labels, component_labels
from checks.schema import DOSSIER_STATUS_NAMES
from checks.sync import field_labels, suspect_detail

# The detail facts, in the order a message looks for them, each with its keys fact and the words of those keys.
DETAIL_FACTS: tuple[tuple[str, str, Callable[[list[str], Language], str]], ...] = (
    ("missing_components", "missing_component_keys", component_labels),
    ("differing_fields", "differing_field_keys", field_labels),
    ("missing_on", "missing_on_keys", catalog_labels),
)


def status_name(status: FactValue, language: Language) -> str | None:
    """A dossier status code in words (``DOSSIER_STATUS_NAMES``); None for an unknown code."""
    if not isinstance(status, int) or isinstance(status, bool) or status not in DOSSIER_STATUS_NAMES:
        return None
    return gettext(language, DOSSIER_STATUS_NAMES[status])


def finding_detail(facts: Mapping[str, FactValue], language: Language) -> str:
    """The one fact that makes a finding actionable, in ``language`` ("" when it has none)."""
    if facts.get("suspect_reason"):  # a source held back by the quarantine: its counts
        return suspect_detail(facts, language)
    for fact, keys_fact, words in DETAIL_FACTS:
        if not facts.get(fact):
            continue
        keys = facts.get(keys_fact)
        if isinstance(keys, str) and keys:
            return words(keys.split(","), language)
        return str(facts[fact])
    if facts.get("national_status_label"):
        return status_name(facts.get("national_status"), language) or str(facts["national_status_label"])
    return ""
