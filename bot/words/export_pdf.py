"""An alert's export as a PDF for a court: drawn from the signed file alone, in the
requester's language (labels from the catalogue; what people wrote, as written).

A4, fonts embedded as subsets so the text stays selectable and Cyrillic and Korean print
anywhere: DejaVu Sans first, NanumGothic for what it lacks (fpdf2's fallback fonts; see
fonts/README.md). Every page's footer carries its number, the signing key's fingerprint
and how to check the JSON beside it.

Rendering takes a few tenths of a second of CPU: callers run it off the event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.fonts import FontFace

from bot.domain.casefile import CaseFile
from bot.words.casefile_text import item_line, label
from bot.words.catalogue import text
from bot.words.locales import language_name

FONTS = Path(__file__).parent / "fonts"
# fontTools warns about hinting tables it drops from every subset: noise, not news.
logging.getLogger("fontTools.subset").setLevel(logging.ERROR)

Json = dict[str, Any]
BODY = 9
SMALL = 7.5
BOLD = FontFace(emphasis="BOLD")


def file_name(alert_id: int, suffix: str) -> str:
    return f"alert-{alert_id}.{suffix}"


class _Pdf(FPDF):
    def __init__(self, footer_lines: list[str], lang: str) -> None:
        super().__init__(format="A4")
        self._footer_lines = footer_lines
        self._lang = lang
        self.add_font("sans", "", FONTS / "DejaVuSans.ttf")
        self.add_font("sans", "B", FONTS / "DejaVuSans-Bold.ttf")
        self.add_font("korean", "", FONTS / "NanumGothic.ttf")
        # Hangul, and whatever else DejaVu lacks, from NanumGothic, bold or not.
        self.set_fallback_fonts(["korean"], exact_match=False)
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(True, margin=22)

    def footer(self) -> None:
        self.set_y(-18)
        self.set_font("sans", "", SMALL)
        self.set_text_color(90)
        page = text("export.pdf.page", self._lang, n=self.page_no(), total="{nb}")
        for line in [*self._footer_lines, page]:
            self.cell(0, 3.6, line, align="C", new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0)

    def heading(self, words: str, size: float = 12) -> None:
        self.ln(3)
        self.set_font("sans", "B", size)
        self.multi_cell(0, size * 0.5, words, new_x="LMARGIN", new_y="NEXT")
        self.set_font("sans", "", BODY)
        self.ln(1)

    def para(self, words: str) -> None:
        self.set_font("sans", "", BODY)
        self.multi_cell(0, 4.5, words, new_x="LMARGIN", new_y="NEXT")

    def pairs(self, rows: Sequence[tuple[str, str]]) -> None:
        """Label and value, one row each."""
        self.grid((45, 135), [], rows)

    def grid(
        self,
        widths: Sequence[float],
        headings: Sequence[str],
        rows: Sequence[Sequence[str]],
    ) -> None:
        self.set_font("sans", "", BODY if not headings else SMALL + 0.5)
        with self.table(
            col_widths=tuple(widths),
            width=sum(widths),
            first_row_as_headings=bool(headings),
            headings_style=BOLD,
            text_align="LEFT",
            v_align="TOP",
            line_height=4.2,
            padding=1,
        ) as table:
            for row in [headings, *rows] if headings else rows:
                cells = table.row()
                for value in row:
                    cells.cell(value)
        self.set_font("sans", "", BODY)


def render(signed: Json, lang: str) -> bytes:
    """The PDF of a signed export file (bot/services/export/signed.py)."""
    doc: Json = signed["document"]
    alert: Json = doc["alert"]
    json_name = file_name(alert["id"], "json")
    pdf = _Pdf(
        [
            text("export.pdf.footer", lang, fingerprint=signed["fingerprint"]),
            text("export.pdf.how_to_verify", lang, file=json_name),
        ],
        lang,
    )
    pdf.set_title(text("export.pdf.title", lang, id=alert["id"]))
    pdf.set_creator("nabat")
    pdf.set_lang(lang)
    pdf.set_creation_date(datetime.fromisoformat(doc["exported"]["at_utc"]))
    pdf.add_page()
    pdf.heading(text("export.pdf.title", lang, id=alert["id"]), size=15)
    zone = doc["contact"]["time_zone"] if doc["contact"] else "UTC"
    exported = doc["exported"]
    by = exported["by"]["name"] if exported["by"] else text("export.pdf.by_cli", lang)
    pdf.para(text("export.pdf.intro", lang, time=_utc(exported["at_utc"]), name=by, tz=zone))
    _person(pdf, doc, lang)
    _case_file(pdf, doc["case_file"], lang)
    _alert(pdf, alert, lang)
    _timeline(pdf, doc["timeline"], zone, lang)
    _deliveries(pdf, doc["deliveries"], zone, lang)
    _people(pdf, doc["people"], lang)
    pdf.heading(text("export.pdf.signature", lang))
    pdf.para(
        text(
            "export.pdf.signature_text",
            lang,
            fingerprint=signed["fingerprint"],
            time=_utc(signed["manifest"]["signed_at"]),
            file=json_name,
        )
    )
    return bytes(pdf.output())


def _person(pdf: _Pdf, doc: Json, lang: str) -> None:
    pdf.heading(text("export.pdf.person", lang))
    contact = doc["contact"]
    if contact is None:
        pdf.para(text("export.pdf.no_contact", lang))
        return
    pdf.pairs(
        [
            (text("export.pdf.pseudonym", lang), contact["pseudonym"]),
            (text("export.pdf.language", lang), language_name(contact["language"], lang)),
            (text("export.pdf.time_zone", lang), contact["time_zone"]),
        ]
    )


def _case_file(pdf: _Pdf, data: Json | None, lang: str) -> None:
    """Labelled as `/case` shows it (bot/words/casefile_text.py); empty fields left out."""
    pdf.heading(text("export.pdf.case_file", lang))
    case = CaseFile.from_dict(data) if data else None
    if case is None or case.empty:
        pdf.para(text("export.pdf.no_case_file", lang))
        return
    rows = []
    for f in fields(case):
        value = getattr(case, f.name)
        if value and isinstance(value, str):
            rows.append((label(f.name, lang), value))
        elif value:
            # 'Document 1 (passport): No. 12 345, issued ...' as its label and the rest.
            for n, item in enumerate(value, 1):
                head, _, rest = item_line(f.name, n, item, lang).partition(": ")
                rows.append((head, rest))
    pdf.pairs(rows)


def _alert(pdf: _Pdf, alert: Json, lang: str) -> None:
    pdf.heading(text("export.pdf.alert", lang))
    rows = [
        (text("export.pdf.kind", lang), text(f"kind.{alert['kind']}", lang)),
        (text("export.pdf.state", lang), _state(alert, lang)),
        (text("export.pdf.created", lang), _at(alert["created"], lang)),
    ]
    for key in ("acknowledged", "resolved"):
        done = alert[key]
        if done:
            who = done["by"]["name"] if done["by"] else "?"
            rows.append((text(f"export.pdf.{key}", lang), f"{_at(done, lang)}\n{who}"))
            if done.get("note"):
                rows.append((text("export.pdf.note", lang), done["note"]))
    if alert["text"]:
        rows.append((text("export.pdf.message", lang), alert["text"]))
    if alert["last_location"]:
        rows.append((text("export.pdf.last_location", lang), _place(alert["last_location"])))
    pdf.pairs(rows)


def _state(alert: Json, lang: str) -> str:
    done = alert["acknowledged"]
    name = done["by"]["name"] if done and done["by"] else "?"
    return text(f"state.{alert['state']}", lang, name=name)


def _timeline(pdf: _Pdf, timeline: list[Json], zone: str, lang: str) -> None:
    pdf.heading(text("export.pdf.timeline", lang))
    rows = [
        (
            str(e["n"]),
            _utc(e["at_utc"]),
            _local(e["at_local"]),
            e["by"]["name"] if e["by"] else "",
            event_line(e, lang),
        )
        for e in timeline
    ]
    headings = ("#", *_time_headings(zone, lang), text("export.pdf.col.who", lang))
    pdf.grid((8, 26, 30, 32, 84), (*headings, text("export.pdf.col.what", lang)), rows)


def _time_headings(zone: str, lang: str) -> tuple[str, str]:
    return text("export.pdf.col.utc", lang), text("export.pdf.col.local", lang, tz=zone)


def event_line(entry: Json, lang: str) -> str:
    """What happened, in the reader's words, with what was said or shared beneath it."""
    kind = entry["kind"]
    params: Json = {"name": "?", "step": "?", "names": "", "reason": "", "wait": ""}
    params |= {"prev": "?", "policy": "", "note": "", "text": "", "content": ""}
    params |= entry["detail"]
    if isinstance(params.get("names"), list):
        params["names"] = ", ".join(str(n) for n in params["names"])
    said = entry["text"] or ""
    params["text"] = params["note"] = said
    key = f"timeline.{kind}"
    lines: list[str] = []
    if kind == "followup":
        params["what"] = text(f"what.{entry['what']}", lang)
        key = "timeline.followup"
    elif kind == "resolved" and said:
        key = "timeline.resolved_note"
    try:
        lines.append(text(key, lang, **params))
    except (KeyError, IndexError, ValueError):
        lines.append(kind)
    if kind in ("followup", "created") and said:
        lines.append(said)
    if entry["location"]:
        lines.append(_place(entry["location"]))
    media = entry["media"]
    if media:
        lines.append(text("export.pdf.file", lang, file_id=media["file_id"]))
        if media.get("caption"):
            lines.append(media["caption"])
    return "\n".join(lines)


def _deliveries(pdf: _Pdf, deliveries: list[Json], zone: str, lang: str) -> None:
    pdf.heading(text("export.pdf.deliveries", lang))
    if not deliveries:
        pdf.para(text("export.pdf.no_pages", lang))
        return
    rows = [
        (
            str(d["n"]),
            _utc(d["paged_at_utc"]),
            _local(d["paged_at_local"]),
            d["to"].get("name") or d["to"].get("title") or "?",
            "-" if d["step"] is None else str(d["step"]),
            text(f"delivery.{d['delivery']}", lang),
        )
        for d in deliveries
    ]
    headings = ("#", *_time_headings(zone, lang), text("export.pdf.col.to", lang))
    more = (text("export.pdf.col.step", lang), text("export.pdf.col.delivery", lang))
    pdf.grid((8, 26, 30, 58, 16, 42), (*headings, *more), rows)


def _people(pdf: _Pdf, people: list[Json], lang: str) -> None:
    if not people:
        return
    pdf.heading(text("export.pdf.people", lang))
    rows = [
        (
            str(p["id"]),
            p["name"],
            ", ".join(text(f"role.{r}", lang) for r in p["roles"]),
        )
        for p in people
    ]
    headings = ("#", text("export.pdf.col.name", lang), text("export.pdf.col.role", lang))
    pdf.grid((12, 100, 68), headings, rows)


def _at(moment: Json, lang: str) -> str:
    return text("export.pdf.at", lang, utc=_utc(moment["at_utc"]), local=_local(moment["at_local"]))


def _utc(stamp: str) -> str:
    """'2026-03-01T03:12:07Z' as '2026-03-01 03:12:07' (the column says UTC)."""
    return stamp.replace("T", " ").removesuffix("Z")


def _local(stamp: str) -> str:
    """'2026-03-01T06:12:07+03:00' as '2026-03-01 06:12:07 +03:00': exact in any language."""
    moment = datetime.fromisoformat(stamp)
    offset = stamp[19:] or "+00:00"
    return f"{moment:%Y-%m-%d %H:%M:%S} {offset}"


def _place(where: Json) -> str:
    return f"{where['lat']:.5f}, {where['lon']:.5f}\n{where['map']}"
