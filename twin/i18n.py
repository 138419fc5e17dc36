"""Page language: English (the default) or Chinese, through ONE translation table.

Every label, caption, card title, table header and summary line that a page or the terminal
shows in a language other than English goes through :func:`tr`. The English text itself is the
key (as in gettext), so English output is the code's own text, unchanged; the Chinese text is in
``twin/data/i18n/zh.yaml`` (one entry per English text, with ``{name}`` placeholders kept).

The language is chosen per page: ``--lang zh`` on the command line, else ``site.language`` in the
plant file (recorded in the run's ``manifest.json``), else English. :func:`use` sets it for the
duration of a ``with`` block (a :class:`contextvars.ContextVar`, so nothing global leaks into
other pages or threads).

Amounts of money: in Chinese, cost and economics cards show CNY in 万元 (ten thousand yuan,
:func:`money`); other currencies are left as they are.

>>> with use("zh"):
...     tr("Electricity")
'用电量'
>>> tr("Electricity")
'Electricity'
"""

from __future__ import annotations

import contextlib
import contextvars
import re
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources
from typing import Any

import yaml

LANGUAGES = ("en", "zh")
"""Languages a page may be written in; English is the default."""

WAN = 10_000.0
"""Yuan per 万元 (ten thousand yuan)."""

_LANG: contextvars.ContextVar[str] = contextvars.ContextVar("twin_lang", default="en")


class LanguageError(ValueError):
    """An unknown language code."""


def check(lang: str) -> str:
    """``lang`` if it is one of :data:`LANGUAGES`, else :class:`LanguageError` naming them."""
    if lang not in LANGUAGES:
        raise LanguageError(f"language {lang!r}: expected one of {', '.join(LANGUAGES)}")
    return lang


@contextlib.contextmanager
def use(lang: str | None) -> Iterator[str]:
    """Write in ``lang`` (``None``: keep the current language) inside the ``with`` block."""
    token = _LANG.set(check(lang) if lang is not None else _LANG.get())
    try:
        yield _LANG.get()
    finally:
        _LANG.reset(token)


def current() -> str:
    """The language pages are being written in now ("en" unless inside :func:`use`)."""
    return _LANG.get()


@cache
def table(lang: str) -> Mapping[str, str]:
    """The translation table of ``lang`` (English text -> text in ``lang``); empty for "en"."""
    if check(lang) == "en":
        return {}
    text = resources.files("twin").joinpath("data", "i18n", f"{lang}.yaml").read_text("utf-8")
    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise LanguageError(f"twin/data/i18n/{lang}.yaml: expected a mapping of English text "
                            "to translated text")
    return data


MISSING: set[tuple[str, str]] = set()
"""(language, English text) of every lookup that found no translation in this process: the text
was shown in English. The tests render Chinese pages and require this to stay empty."""


def tr(text: str, /, **values: Any) -> str:
    """``text`` in the current language, with ``{name}`` placeholders filled from ``values``
    (``str.format``). English: ``text`` itself (formatted). A text missing from the table is
    shown in English and recorded in :data:`MISSING` (the completeness test in
    ``tests/test_i18n.py`` keeps the table whole)."""
    lang = _LANG.get()
    if lang == "en" or not text:
        out = text
    else:
        out = table(lang).get(text, text)
        if out is text:
            MISSING.add((lang, text))
    return out.format(**values) if values else out


_FIELD = re.compile(r"\{(\w+)\}")
_MIN_LITERAL = 12
"""A template must hold this many characters of its own text (not placeholders) to be tried
against a generated message: ``{x}.`` would otherwise match anything."""


@cache
def _templates(lang: str) -> tuple[tuple[re.Pattern[str], str], ...]:
    """(pattern matching the English text, key) of every key of ``lang``'s table with
    ``{name}`` placeholders, the most literal text first."""
    out = []
    for key in table(lang):
        parts = _FIELD.split(key)  # literal, name, literal, name, ..., literal
        if len(parts) == 1 or sum(len(p) for p in parts[::2]) < _MIN_LITERAL:
            continue
        seen: set[str] = set()
        rx = []
        for i, part in enumerate(parts):
            if i % 2 == 0:
                rx.append(re.escape(part))
            elif part in seen:
                rx.append(f"(?P={part})")
            else:
                seen.add(part)
                rx.append(f"(?P<{part}>.+?)")
        out.append((len("".join(parts[::2])), re.compile("".join(rx), re.S), key))
    out.sort(key=lambda t: -t[0])
    return tuple((rx, key) for _, rx, key in out)


def message(text: str, /) -> str:
    """A message generated in English (a warning, a reason, a note written to ``kpis.json``)
    in the current language.

    The message is looked up whole; failing that, it is matched against the table's templates
    (keys with ``{name}`` placeholders, as the code wrote them with :func:`N_` and
    ``str.format``), and the values it carries are put into the translated template, each value
    itself translated when it is a key (a phrase such as "heat demand exceeded the heat plant").
    A message that matches nothing stays English and is recorded in :data:`MISSING`. Messages
    in run folders written before a template changed are shown as they were written.
    """
    lang = _LANG.get()
    if lang == "en" or not text:
        return text
    tab = table(lang)
    if text in tab:
        return tab[text]
    for rx, key in _templates(lang):
        m = rx.fullmatch(text)
        if m is not None:
            return tab[key].format(**{k: tab.get(v, v) for k, v in m.groupdict().items()})
    MISSING.add((lang, text))
    return text


def N_(text: str, /) -> str:
    """Mark ``text`` as a translation key where it is defined (a table of labels) and return it
    unchanged; translate it with :func:`tr` where it is shown (gettext's ``N_``)."""
    return text


def display_width(text: str) -> int:
    """Terminal columns of ``text``: a CJK character or full-width sign takes two."""
    return sum(2 if "\u2e80" <= c <= "\u9fff" or "\uff00" <= c <= "\uffef" else 1
               for c in text)


def money_unit(currency: str) -> tuple[float, str]:
    """(divisor, unit) of amounts of ``currency`` on a page: CNY in Chinese is shown in 万元
    (divide by :data:`WAN`), everything else as is (divisor 1)."""
    if _LANG.get() == "zh" and currency.upper() in ("CNY", "RMB", "¥", "元"):
        return WAN, "万元"
    return 1.0, currency


def language_of(manifest: Mapping[str, Any], lang: str | None = None) -> str:
    """The language of a page: ``lang`` if given (``--lang``), else the plant file's
    ``site.language`` from the run's manifest, else English."""
    if lang is not None:
        return check(lang)
    site = ((manifest.get("config") or {}).get("site") or {})
    return check(str(site.get("language") or "en"))
