"""Licenses the collector may choose for the dataset: SPDX id -> (Hub id, name, URL)."""

from __future__ import annotations

from typing import NamedTuple


class License(NamedTuple):
    spdx: str
    hub: str  # the Hugging Face Hub's `license:` identifier
    name: str
    url: str


LICENSES: dict[str, License] = {
    lic.spdx: lic
    for lic in (
        License("CC-BY-NC-4.0", "cc-by-nc-4.0", "Creative Commons Attribution-NonCommercial 4.0",
                "https://creativecommons.org/licenses/by-nc/4.0/"),
        License("CC-BY-NC-SA-4.0", "cc-by-nc-sa-4.0",
                "Creative Commons Attribution-NonCommercial-ShareAlike 4.0",
                "https://creativecommons.org/licenses/by-nc-sa/4.0/"),
        License("CC-BY-NC-ND-4.0", "cc-by-nc-nd-4.0",
                "Creative Commons Attribution-NonCommercial-NoDerivatives 4.0",
                "https://creativecommons.org/licenses/by-nc-nd/4.0/"),
        License("CC-BY-4.0", "cc-by-4.0", "Creative Commons Attribution 4.0",
                "https://creativecommons.org/licenses/by/4.0/"),
        License("CC-BY-SA-4.0", "cc-by-sa-4.0", "Creative Commons Attribution-ShareAlike 4.0",
                "https://creativecommons.org/licenses/by-sa/4.0/"),
        License("CC0-1.0", "cc0-1.0", "Creative Commons Zero 1.0 (public domain dedication)",
                "https://creativecommons.org/publicdomain/zero/1.0/"),
        License("ODC-By-1.0", "odc-by", "Open Data Commons Attribution License 1.0",
                "https://opendatacommons.org/licenses/by/1-0/"),
        License("CDLA-Permissive-2.0", "cdla-permissive-2.0",
                "Community Data License Agreement – Permissive 2.0",
                "https://cdla.dev/permissive-2-0/"),
    )
}  # fmt: skip

DEFAULT_LICENSE = "CC-BY-NC-4.0"
