"""Chinese pages (issue 16 item 6): one translation table, complete in both directions, English
unchanged, the same numbers in both languages, CNY in 万元 checked by hand."""

from __future__ import annotations

import html
import re
import string
from pathlib import Path

import pytest
import yaml

import twin
from twin import i18n
from twin.config import ConfigError, plant_from_data, read_yaml
from twin.dashboard import build_html
from twin.i18n_keys import keys_in, used_keys

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "plant_configs" / "demo_plant.yaml"
TABLE = ROOT / "twin" / "data" / "i18n" / "zh.yaml"
CJK = re.compile(r"[\u4e00-\u9fff]")


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}


def test_every_key_the_code_uses_has_a_chinese_entry_and_every_entry_is_used() -> None:
    used = used_keys()
    table = yaml.safe_load(TABLE.read_text("utf-8"))
    assert len(used) > 200  # the collector found the pages' texts, not nothing
    assert sorted(used - set(table)) == [], "keys without a Chinese entry"
    assert sorted(set(table) - used) == [], "entries no code uses"


def test_each_entry_keeps_the_placeholders_and_is_chinese() -> None:
    table = yaml.safe_load(TABLE.read_text("utf-8"))
    for en, zh in table.items():
        assert _fields(zh) == _fields(en), (en, zh)
        # every entry with words in it has Chinese in it (punctuation-only keys like ", " aside)
        if re.search(r"[A-Za-z]{3}", en) and en not in ("OEE",):
            assert CJK.search(zh), (en, zh)


def test_key_collector_reads_literals_of_tr_and_n_only() -> None:
    src = ('tr("A {x}", x=1)\nN_("B")\ntr(name)\nf(tr("C" " D"))\nprint("E")\n'
           'tr(f"F{y}")\n')
    assert keys_in(src) == {"A {x}", "B", "C D"}


def test_english_is_the_key_itself_and_chinese_only_inside_use() -> None:
    assert i18n.tr("Electricity") == "Electricity"
    assert i18n.tr("{x} kWh per day", x="1,234") == "1,234 kWh per day"
    with i18n.use("zh"):
        assert i18n.tr("Electricity") == "用电量"
        assert i18n.tr("{x} kWh per day", x="1,234") == "每天 1,234 kWh"
        assert i18n.money_unit("CNY") == (10_000.0, "万元")
        assert i18n.money_unit("EUR") == (1.0, "EUR")
    assert i18n.tr("Electricity") == "Electricity"
    assert i18n.money_unit("CNY") == (1.0, "CNY")
    with pytest.raises(i18n.LanguageError, match=r"'fr'.*en, zh"):
        i18n.check("fr")


def test_wan_yuan_by_hand() -> None:
    from twin.dashboard.page import _money

    # 123,456 yuan = 12.3456 万元 -> 12.35; 16,718 yuan -> 1.67; 4,999 yuan -> 0.50
    assert _money(123_456.0, 10_000.0) == "12.35"
    assert _money(16_718.0, 10_000.0) == "1.67"
    assert _money(4_999.0, 10_000.0) == "0.50"
    assert _money(16_718.4, 1.0) == "16,718"


def test_site_language_is_optional_and_left_out_of_the_dump_when_unset() -> None:
    data, _ = read_yaml(DEMO)
    plain = plant_from_data(data)
    assert "language" not in plain.model_dump(mode="json")["site"]  # config hash as before
    data["site"]["language"] = "zh"
    assert plant_from_data(data).model_dump(mode="json")["site"]["language"] == "zh"
    data["site"]["language"] = "fr"
    with pytest.raises(ConfigError, match="language"):
        plant_from_data(data)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data, _ = read_yaml(DEMO)
    data["site"]["language"] = "zh"   # the plant-file setting
    result = twin.simulate(plant_from_data(data), days=7)
    return result.save(tmp_path_factory.mktemp("zh") / "run")


def _cards(page: str) -> dict[str, tuple[str, str]]:
    """Card label -> (value, unit) from a dashboard page."""
    pat = re.compile(r'<div class="label">(.*?)</div><div class="value">(.*?)'
                     r'<span class="unit">(.*?)</span>')
    return {html.unescape(a): (b, html.unescape(c)) for a, b, c in pat.findall(page)}


def test_plant_file_language_and_lang_override(run: Path) -> None:
    i18n.MISSING.clear()
    zh = build_html(run)                     # site.language: zh
    en = build_html(run, lang="en")          # --lang en wins
    assert '<html lang="zh-CN">' in zh and '<html lang="en">' in en
    assert not i18n.MISSING, sorted(i18n.MISSING)
    assert "用电量" in _cards(zh) and "Electricity" in _cards(en)
    # plant-supplied names stay as given
    for station in ("cnc", "curing_oven", "eol_test"):
        assert f"<td>{station}</td>" in zh


def test_chinese_cards_carry_the_same_numbers_and_cost_in_wan_yuan(run: Path) -> None:
    import json

    kpis = json.loads((run / "kpis.json").read_text())
    zh, en = _cards(build_html(run)), _cards(build_html(run, lang="en"))
    pairs = {"用电量": "Electricity", "最大需量": "Peak demand", "完成产量": "Units completed",
             "CO₂ 范围一 + 范围二": "CO₂ scope 1 + 2", "光伏发电量": "PV generation",
             "自给率": "Self-sufficiency"}
    for z, e in pairs.items():
        assert zh[z][0] == en[e][0], (z, zh[z], en[e])
    # cost total: English in yuan, Chinese in 万元 to two decimals, both from kpis by hand
    cost = kpis["cost_total"]
    assert en["Cost total"] == (f"{cost:,.0f}", "CNY")
    assert zh["能源费用合计"] == (f"{cost / 10_000:,.2f}", "万元")
    assert abs(float(zh["能源费用合计"][0]) * 10_000 - cost) <= 50.0


def test_english_page_has_no_chinese(run: Path) -> None:
    page = build_html(run, lang="en")
    body = re.sub(r"<script.*?</script>", "", page, flags=re.S)
    labels = re.findall(r'<div class="label">(.*?)</div>', body)
    assert labels and not any(CJK.search(x) for x in labels)
    heads = re.findall(r"<h2>(.*?)</h2>", body)
    assert heads and not any(CJK.search(x) for x in heads)


NUMBER = re.compile(r"^[−+-]?[\d,]+(\.\d+)?( ?%)?$")


def _tables(md: str) -> list[list[list[str]]]:
    """The Markdown tables of a report as rows of cells (header row included)."""
    out: list[list[list[str]]] = []
    block: list[list[str]] = []
    for line in [*md.splitlines(), ""]:
        if line.startswith("|"):
            if not line.startswith("|---"):
                block.append([c.strip() for c in line.strip("|").split(" | ")])
        elif block:
            out.append(block)
            block = []
    return out


def test_chinese_report_has_the_same_numbers_as_the_english(run: Path, tmp_path: Path) -> None:
    import shutil

    from twin.report import write_report

    en_dir, zh_dir = tmp_path / "en", tmp_path / "zh"
    shutil.copytree(run, en_dir)
    shutil.copytree(run, zh_dir)
    i18n.MISSING.clear()
    write_report(en_dir, lang="en")
    write_report(zh_dir)                      # site.language: zh
    assert not i18n.MISSING, sorted(i18n.MISSING)
    en, zh = (d.joinpath("report.md").read_text("utf-8") for d in (en_dir, zh_dir))
    assert zh.startswith("# 碳排放报告：") and en.startswith("# Carbon report: ")
    assert '<html lang="zh-CN">' in (zh_dir / "report.html").read_text("utf-8")
    # evaluation.json does not depend on the language
    assert (en_dir / "evaluation.json").read_bytes() == (zh_dir / "evaluation.json").read_bytes()
    te, tz = _tables(en), _tables(zh)
    assert len(te) == len(tz) >= 5
    numbers = 0
    for a, b in zip(te, tz, strict=True):
        assert len(a) == len(b)
        for ra, rb in zip(a, b, strict=True):
            assert len(ra) == len(rb)
            for ca, cb in zip(ra, rb, strict=True):
                if NUMBER.match(ca):
                    assert ca == cb, (ra, rb)
                    numbers += 1
    assert numbers > 50
    # every decimal number of the text (paragraphs included) is in both, as often
    dec = re.compile(r"\d[\d,]*\.\d+")
    assert sorted(dec.findall(en)) == sorted(dec.findall(zh))


def test_cli_run_lang_zh_writes_the_summary_and_dashboard_in_chinese(tmp_path: Path,
                                                                      capsys) -> None:
    from twin.cli import main

    out = tmp_path / "run"
    assert main(["run", str(DEMO), "--days", "1", "--out", str(out), "--lang", "zh"]) == 0
    text = capsys.readouterr().out
    assert "  模拟时段         " in text          # 4 characters = 8 columns, padded to 17
    assert "  用电量           " in text
    assert "simulated" not in text and "busiest stations" not in text
    assert '<html lang="zh-CN">' in (out / "dashboard.html").read_text("utf-8")
    # --lang en on the dashboard overrides the run's language
    assert main(["dashboard", str(out), "--lang", "en"]) == 0
    assert '<html lang="en">' in (out / "dashboard.html").read_text("utf-8")
    with pytest.raises(SystemExit):
        main(["dashboard", str(out), "--lang", "fr"])


def test_compare_summary_in_chinese_has_the_same_numbers_and_aligned_columns(
        tmp_path: Path) -> None:
    import pandas as pd

    from twin.config.study import load_study
    from twin.study import load_comparison, run_study, summary_table

    f = tmp_path / "study.yaml"
    f.write_text(f"name: zh\nplant: {DEMO}\ndays: 1\nreplications: 2\nbase: baseline\n"
                 "scenarios:\n  baseline: {}\n  more_pv:\n    overrides:\n"
                 "      energy.pv[id=rooftop].dc_kwp: 1000\n")
    resolved = load_study(f)
    out = run_study(resolved, tmp_path / "out", jobs=1, progress=None)
    comp, econ = load_comparison(out), pd.read_csv(out / "economics.csv")
    en = summary_table(resolved, comp, econ)
    i18n.MISSING.clear()
    with i18n.use("zh"):
        zh = summary_table(resolved, comp, econ)
    assert not i18n.MISSING, sorted(i18n.MISSING)
    assert "用电量" in zh and "Electricity use" in en
    def cells(text: str) -> list[list[str]]:
        """Value cells (after label and unit) of the table's rows."""
        rows = text.split("\n\n")[0].splitlines()[2:-1]
        return [re.split(r"\s{2,}", r.strip())[2:] for r in rows]

    assert cells(en) == cells(zh) and len(cells(en)) >= 6   # the same numbers, row by row
    num = re.compile(r"[−+-]?\d[\d,]*\.\d+|\d{1,3}(?:,\d{3})+")
    assert sorted(num.findall(en)) == sorted(num.findall(zh))
    # the table's lines (header, rule, rows) all end at the same terminal column
    table = zh.split("\n\n")[0].splitlines()[:-1]    # header, rule, rows (not the note)
    assert len(table) >= 6 and set(table[1]) == {"-", " "}
    assert len({i18n.display_width(line) for line in table}) == 1, table


# --------------------------------------------------------------------------------------------
# Generated messages (warnings, evaluation reasons and notes) through i18n.message
# --------------------------------------------------------------------------------------------

WIP = ("9.2% of the lots that entered the plant (58 of 632) are still in it at the end (above "
       "5%): per-unit energy, carbon and lead times count only the finished lots; run longer "
       "(lead time / run length is about that share in a stable line) or relieve an overloaded "
       "station")


def test_a_generated_message_is_matched_to_its_template_and_carries_its_numbers() -> None:
    i18n.MISSING.clear()
    assert i18n.message(WIP) == WIP  # English: the message itself
    with i18n.use("zh"):
        zh = i18n.message(WIP)
        # by hand from the table's template: share, open of entered, limit in their places
        assert zh == ("进入工厂的批次中有 9.2%（632 个中的 58 个）在结束时仍在厂内（高于 5%）："
                      "单位产品能耗、碳排放和生产周期只计已完工批次；请延长运行时间（在稳定的产线"
                      "中，该比例约等于生产周期与运行时长之比）或缓解过载工位")
        # a value that is itself a key is translated too
        assert i18n.message("1,234.5 kWh of heat demand exceeded the heat plant in 12 "
                            "intervals") == "12 个结算时段内共 1,234.5 kWh：热负荷超出供热设备能力"
        # a whole message that is a key: looked up as it is
        assert i18n.message("no residual emissions") == "无剩余排放"
    assert not i18n.MISSING, sorted(i18n.MISSING)


def test_an_unknown_message_stays_english_and_is_recorded() -> None:
    i18n.MISSING.clear()
    with i18n.use("zh"):
        assert i18n.message("a note from another version") == "a note from another version"
        # a template must carry enough text of its own to be tried: '{x}.' matches nothing
        assert i18n.message("12 of them.") == "12 of them."
    assert {("zh", "a note from another version"), ("zh", "12 of them.")} == i18n.MISSING
    i18n.MISSING.clear()


def test_warnings_and_evaluation_texts_of_a_chinese_page_are_chinese(run: Path) -> None:
    import json

    kpis = json.loads((run / "kpis.json").read_text(encoding="utf-8"))
    assert kpis["warnings"], "the 7-day demo run is expected to warn (lots still in the plant)"
    i18n.MISSING.clear()
    zh = build_html(run)
    assert not i18n.MISSING, sorted(i18n.MISSING)
    box = re.search(r'<section id="warnings".*?</section>', zh, re.S).group(0)
    for item in re.findall(r"<li>(.*?)</li>", box, re.S):
        assert CJK.search(item) and not re.search(r"[A-Za-z]{5,}", html.unescape(item)), item
    table = re.search(r'<table class="stations" id="evaluation-table">.*?</table>', zh,
                      re.S).group(0)
    labels = re.findall(r"<tr><td>(.*?)</td>", table)
    assert labels and all(CJK.search(x) for x in labels)
    assert kpis["evaluation"]["rules"]["title"] not in zh  # the rule set's title translated


def _trace_names(page: str) -> set[str]:
    """Legend names and legend-group titles of every figure on a page (JSON strings decoded)."""
    import json

    raw = re.findall(r'"name":\s*("(?:[^"\\]|\\.)*")', page)
    raw += re.findall(r'"legendgrouptitle":\s*\{"text":\s*("(?:[^"\\]|\\.)*")', page)
    return {html.unescape(json.loads(s)) for s in raw}


def test_figure_legends_of_a_chinese_page_are_chinese(run: Path) -> None:
    en, zh = _trace_names(build_html(run, lang="en")), _trace_names(build_html(run))
    table = i18n.table("zh")
    translated = {n for n in en if n in table}
    # the supply chart, costs, emissions, footprints, states and load-duration legends at least
    assert {"Grid import", "Site demand", "Scope 1: natural gas burnt on site",
            "Processing", "Demand charge"} <= translated
    for name in translated:
        assert table[name] in zh and name not in zh, name
    # what stays English is the plant's own names (stations, groups, products) and prices
    assert all(CJK.search(n) or n not in table for n in zh)


def test_a_study_takes_its_language_from_the_base_plant(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    from twin.cli import main

    f = tmp_path / "study.yaml"
    f.write_text(f"name: zh\nplant: {DEMO}\ndays: 1\nreplications: 2\nbase: baseline\n"
                 "scenarios:\n  baseline:\n    overrides:\n      site.language: zh\n"
                 "  more_pv:\n    overrides:\n      site.language: zh\n"
                 "      energy.pv[id=rooftop].dc_kwp: 1000\n")
    out = tmp_path / "out"
    assert main(["compare", str(f), "--out", str(out), "--jobs", "1"]) == 0
    assert "用电量" in capsys.readouterr().out            # the terminal table
    assert '<html lang="zh-CN">' in (out / "dashboard.html").read_text("utf-8")
    main(["dashboard", str(out), "--lang", "en"])        # --lang still wins
    assert '<html lang="en">' in (out / "dashboard.html").read_text("utf-8")


def test_study_page_legends_in_chinese(tmp_path: Path) -> None:
    from twin.config.study import load_study
    from twin.dashboard.study import write_study_dashboard
    from twin.study import run_study

    f = tmp_path / "study.yaml"
    f.write_text(f"name: zh\nplant: {DEMO}\ndays: 1\nreplications: 2\nbase: baseline\n"
                 "scenarios:\n  baseline: {}\n  more_pv:\n    overrides:\n"
                 "      energy.pv[id=rooftop].dc_kwp: 1000\n")
    out = run_study(load_study(f), tmp_path / "out", jobs=1, progress=None)
    en = _trace_names((write_study_dashboard(out, lang="en")).read_text("utf-8"))
    i18n.MISSING.clear()
    zh = _trace_names((write_study_dashboard(out, lang="zh")).read_text("utf-8"))
    assert not i18n.MISSING, sorted(i18n.MISSING)
    assert "baseline: grid import" in en and "baseline: 下网电量" in zh
    assert "more_pv: site demand" in en and "more_pv: 全厂负荷" in zh
    # no English word of ours left in a Chinese legend: only scenario names and override paths
    words = {w for n in zh for w in re.findall(r"[A-Za-z]{4,}", n)}
    assert words <= {"baseline", "more", "energy", "rooftop"}, words


def test_the_weather_file_warnings_are_translated_with_their_numbers() -> None:
    far = ("weather file x.epw: its station (31.17, 121.43) is 1,066 km from the site (39.90, "
           "116.40); its PV and wind are another place's climate")
    clock = far + ("; its clock is UTC+9 h and the site's UTC+8 h, and its hours were converted "
                   "by absolute time, so its daylight falls 1 h off the site's sun (to use it as "
                   "a stand-in climate on the site's clock, set energy.weather.timezone to the "
                   "site's zone)")
    i18n.MISSING.clear()
    with i18n.use("zh"):
        assert i18n.message(far) == ("气象文件 x.epw：其气象站（31.17, 121.43）距厂址（39.90, "
                                     "116.40）1,066 km；其光伏和风电出力反映的是另一地的气候")
        zh = i18n.message(clock)
    assert not i18n.MISSING and "UTC+9 h" in zh and "UTC+8 h" in zh and "相差 1 h" in zh
