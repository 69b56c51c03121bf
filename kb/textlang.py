"""Tell Japanese, Chinese and English text apart by the scripts it is written in."""

from __future__ import annotations

import re

_KANA = re.compile(r"[\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
_FENCED = re.compile(r"^(```|~~~).*?^\1\s*$", re.MULTILINE | re.DOTALL)


def detect_language(text: str) -> str:
    """ "ja" when kana appear, "zh" for Han without (much) kana, else "en".

    Fenced code is ignored: commands and YAML are ASCII whatever the prose is written in.
    A CJK document usually carries many Latin letters (commands, product names), so a
    modest share of CJK characters is enough; Japanese prose is rarely under 10% kana.
    """
    prose = _FENCED.sub("", text)
    kana = len(_KANA.findall(prose))
    han = len(_HAN.findall(prose))
    latin = len(_LATIN.findall(prose))
    cjk = kana + han
    if cjk == 0 or (cjk < 20 and cjk * 4 < latin):
        return "en"
    return "ja" if kana * 10 >= cjk else "zh"
