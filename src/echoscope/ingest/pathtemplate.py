"""Pulling document fields out of file paths.

Archives often keep what matters in the folder layout (``12.07.99/pinochet/pinochet3_sun.txt``
says date, story and paper). A template such as
``{date:%d.%m.%y}/{story}/{name}_{source}.txt`` names those parts; fields that are
document attributes (source, date, title, language, url, id) fill the document, the rest
go to its metadata.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from echoscope.model import TimePrecision

DATE_FIELDS = {"date", "published_at"}

# strptime directive -> regex for its text
_DIRECTIVES = {
    "d": r"\d{1,2}",
    "m": r"\d{1,2}",
    "y": r"\d{2}",
    "Y": r"\d{4}",
    "H": r"\d{1,2}",
    "M": r"\d{1,2}",
    "S": r"\d{1,2}",
    "b": r"[A-Za-z]{3}",
    "B": r"[A-Za-z]+",
    "j": r"\d{1,3}",
    "%": "%",
}
_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}")


class TemplateError(ValueError):
    """A path template that cannot be used."""


@dataclass(frozen=True)
class PathMatch:
    fields: dict[str, str]
    published_at: datetime | None
    precision: TimePrecision


class PathTemplate:
    def __init__(self, template: str) -> None:
        self.template = template.strip().strip("/")
        if not self.template:
            raise TemplateError("empty path template")
        self._date_format: str | None = None
        self._date_field: str | None = None
        self._regex = re.compile(self._compile(self.template), re.DOTALL)

    def _compile(self, template: str) -> str:
        pattern = ["^(?:.*/)?"]  # the template may match the tail of a deeper path
        pos = 0
        seen: set[str] = set()
        for m in _FIELD.finditer(template):
            pattern.append(re.escape(template[pos : m.start()]))
            name, fmt = m.group(1), m.group(2)
            if name in seen:
                raise TemplateError(f"field {{{name}}} appears twice in {template!r}")
            seen.add(name)
            if name in DATE_FIELDS:
                if fmt is None:
                    raise TemplateError(
                        f"date field needs a format, e.g. {{{name}:%Y-%m-%d}} in {template!r}"
                    )
                self._date_format, self._date_field = fmt, name
                pattern.append(f"(?P<{name}>{_strptime_regex(fmt)})")
            elif name == "ext":
                pattern.append(r"(?P<ext>[^/.]+)")
            else:
                if fmt:
                    raise TemplateError(f"only date fields take a format, not {{{name}:{fmt}}}")
                pattern.append(f"(?P<{name}>[^/]+?)")
            pos = m.end()
        if not seen:
            raise TemplateError(f"path template {template!r} names no field in braces")
        pattern.append(re.escape(template[pos:]))
        pattern.append("$")
        return "".join(pattern)

    def match(self, relpath: str) -> PathMatch | None:
        m = self._regex.match(relpath.replace("\\", "/"))
        if not m:
            return None
        fields = {k: v for k, v in m.groupdict().items() if v is not None}
        published = None
        precision = TimePrecision.UNKNOWN
        if self._date_field and self._date_field in fields:
            raw = fields.pop(self._date_field)
            try:
                published = datetime.strptime(raw, self._date_format or "")
            except ValueError:
                return None
            fmt = self._date_format or ""
            precision = (
                TimePrecision.SECOND
                if "%S" in fmt
                else TimePrecision.MINUTE
                if "%M" in fmt
                else TimePrecision.DAY
            )
        return PathMatch(fields=fields, published_at=published, precision=precision)


def _strptime_regex(fmt: str) -> str:
    out = []
    i = 0
    while i < len(fmt):
        ch = fmt[i]
        if ch == "%" and i + 1 < len(fmt):
            d = fmt[i + 1]
            if d not in _DIRECTIVES:
                raise TemplateError(f"date directive %{d} is not supported in path templates")
            out.append(_DIRECTIVES[d])
            i += 2
        else:
            out.append(re.escape(ch))
            i += 1
    return "".join(out)
