"""The page's HTML, built on the server: plain tables and an inline SVG map, readable without JavaScript.

No template engine and nothing fetched at run time: styles are inline, the only script is one line
(the day selector submits itself when changed; its button does the same with JavaScript off). Every
text from the data is escaped.
"""

from __future__ import annotations

from html import escape

from serving.page.assemble import Page, ScoreLine
from serving.page.champion import ChampionCard
from serving.page.forecast_view import ComunaDay, ForecastView
from serving.structs.responses import WeatherEffects

_STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1240px;padding:16px 24px;color:#222}
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.15em;margin:1.4em 0 .4em}
.row{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}
table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}
th:first-child,td:first-child{text-align:left}.why{color:#8a4b00}.muted{color:#666;font-size:.9em}
nav a{margin-right:8px}nav a.selected{font-weight:bold;text-decoration:none;color:#222}
section{margin-bottom:12px}td.verdict{text-align:left}.comuna-map path:hover{stroke:#000;stroke-width:2}
"""


def _text(value: str) -> str:
    """Text content escaped (quotes need no escaping outside attributes)."""
    return escape(value, quote=False)


def _number(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _why(reason: str) -> str:
    return f'<p class="why">{_text(reason)}</p>'


def _label(row: ComunaDay, by_counts: bool) -> str:
    if by_counts and row.expected is not None:
        return (
            f"Comuna {row.comuna}: {row.expected:.1f} expected robberies "
            f"(80 % interval {row.low_80}–{row.high_80})"
        )
    ratio = f"weather rate ratio {_number(row.ratio, 2)} ({_number(row.ratio_low, 2)}–{_number(row.ratio_high, 2)})"
    return f"Comuna {row.comuna}: {ratio}" + (f"; {row.reason}" if row.reason else "")


def _day_selector(view: ForecastView) -> str:
    links = " ".join(
        f'<a href="?day={day}"{" class=selected" if day == view.day else ""}>{day:%a %d %b}</a>'
        for day in view.days
    )
    options = "".join(
        f'<option value="{day}"{" selected" if day == view.day else ""}>{day}</option>' for day in view.days
    )
    return (
        f'<nav aria-label="days">{links}</nav>'
        '<form method="get" action="/" id="day-form"><label>Day <select name="day" id="day" '
        f'onchange="this.form.submit()">{options}</select></label> <button type="submit">Show</button></form>'
    )


def _forecast_table(view: ForecastView) -> str:
    if view.by_counts:
        head = "<tr><th>Comuna</th><th>Expected robberies</th><th>80 % interval</th></tr>"
        body = "".join(
            f'<tr data-comuna="{row.comuna}"><td>Comuna {row.comuna}</td>'
            f'<td class="expected" data-value="{row.expected!r}">{_number(row.expected)}</td>'
            f'<td class="interval" data-low="{row.low_80}" data-high="{row.high_80}">'
            f"{row.low_80}–{row.high_80}</td></tr>"
            for row in view.comunas
        )
    else:
        head = "<tr><th>Comuna</th><th>Weather rate ratio</th><th>95 % interval</th></tr>"
        body = "".join(
            f'<tr data-comuna="{row.comuna}"><td>Comuna {row.comuna}</td>'
            f'<td class="ratio" data-value="{row.ratio!r}">{_number(row.ratio, 2)}</td>'
            f"<td>{_number(row.ratio_low, 2)}–{_number(row.ratio_high, 2)}</td></tr>"
            for row in view.comunas
        )
    return f'<table id="forecast-table"><caption>{view.day}</caption>{head}{body}</table>'


def _forecast(page: Page) -> str:
    view = page.forecast
    if view is None:
        return "<h2>Forecast</h2>" + _why(page.forecast_reason or "no forecast yet")
    parts = [f"<h2>Forecast for {view.day:%A %d %B %Y}</h2>", _day_selector(view)]
    if view.note:
        parts.append(_why(view.note))
    if not view.by_counts:
        reasons = "; ".join(view.reasons) or "this day is beyond the model's horizon"
        parts.append(
            _why(
                f"No robbery counts for this day: {reasons}. The map shows how the forecast weather "
                "changes the rate of robberies instead (the weather rate ratio, 1 = no change)."
            )
        )
    if page.comuna_map is None:
        drawn = _why(page.map_reason or "no map")
    else:
        values = {row.comuna: row.expected if view.by_counts else row.ratio for row in view.comunas}
        labels = {row.comuna: _label(row, view.by_counts) for row in view.comunas}
        title = "Expected robberies" if view.by_counts else "Weather rate ratio"
        drawn = page.comuna_map.render(
            values, labels, f"{title}, {view.day}", "robberies" if view.by_counts else ""
        )
    parts.append(
        f'<div class="row"><figure id="map" style="margin:0">{drawn}</figure>{_forecast_table(view)}</div>'
    )
    parts.append(
        f'<p class="muted">Issued {_text(view.issued_at)} for {view.issue} by model v{_text(view.model_version)} '
        f"from {_text(view.weather_source)}.</p>"
    )
    return "".join(parts)


def _effects(effects: WeatherEffects | None, reason: str | None) -> str:
    if effects is None:
        return "<h2>What the weather does</h2>" + _why(reason or "no effects yet")
    weather = "".join(
        f"<tr><td>{_text(row.contrast)}</td><td>{row.rate_ratio:.3f}</td>"
        f"<td>{row.ci_low:.3f}–{row.ci_high:.3f}</td><td>{row.change_per_city_day:+.1f}</td>"
        f'<td class="verdict">{_text(row.verdict)}</td></tr>'
        for row in effects.effects
    )
    rain = "".join(
        f'<tr data-comuna="{row.comuna}"><td>Comuna {row.comuna}</td><td>{row.rate_ratio:.3f}</td>'
        f"<td>{row.ci_low:.3f}–{row.ci_high:.3f}</td><td>{row.change_per_day:+.2f}</td>"
        f'<td class="verdict">{_text(row.verdict)}</td></tr>'
        for row in effects.by_comuna
    )
    return (
        "<h2>What the weather does</h2>"
        f'<p class="muted">Champion v{_text(effects.model_version)}; {_text(effects.estimation.sample_note)}</p>'
        '<div class="row"><table id="effects-table"><caption>Rate ratios (95 % CI)</caption>'
        "<tr><th>Contrast</th><th>Rate ratio</th><th>95 % CI</th><th>Per city-day</th><th>Verdict</th></tr>"
        f"{weather}</table>"
        '<table id="rain-table"><caption>Rain ≥ 1 mm, per comuna</caption>'
        "<tr><th>Comuna</th><th>Rate ratio</th><th>95 % CI</th><th>Per day</th><th>Verdict</th></tr>"
        f"{rain}</table></div>"
    )


def _card(card: ChampionCard | None, reason: str | None) -> str:
    if card is None:
        return "<h2>The champion</h2>" + _why(reason or "no champion loaded")
    rows = "".join(
        f"<tr><td>{score.horizon}</td><td>{_number(score.deviance, 3)}</td>"
        f"<td>{_number(score.naive_deviance, 3)}</td>"
        f"<td>{'–' if score.coverage_80 is None else f'{score.coverage_80:.0%}'}</td></tr>"
        for score in card.horizons
    )
    accuracy = (
        '<table id="accuracy-table"><caption>Backtest accuracy per horizon</caption><tr><th>Horizon</th>'
        f"<th>Poisson deviance</th><th>Best naive</th><th>80 % coverage</th></tr>{rows}</table>"
        if rows
        else _why("the champion's run logged no accuracy per horizon (backtest_h*_ metrics)")
    )
    return (
        '<h2>The champion</h2><dl id="champion">'
        f"<dt>Version</dt><dd>v{_text(card.version)} (run {_text(card.run_id)})</dd>"
        f"<dt>Data through</dt><dd>{_text(card.data_through or 'unknown')}</dd>"
        f"<dt>Promoted</dt><dd>{_text(card.promoted_at or 'unknown')}</dd>"
        f"<dt>Weather verdict</dt><dd>{_text(card.verdict or 'not recorded')}</dd></dl>{accuracy}"
    )


def _claim(line: ScoreLine) -> str:
    if line.source == "outlook":
        return f"outlook of v{line.source_key}"
    return f"{line.source} issued {line.source_key}"


def _scorecard(scores: list[ScoreLine] | None, reason: str | None) -> str:
    if scores is None:
        return '<h2>Live scorecard</h2><div id="scorecard">' + _why(reason or "no scorecard yet") + "</div>"
    rows = "".join(
        f"<tr><td>{_text(line.month)}</td><td>{_text(_claim(line))}</td>"
        f"<td>{_text(line.horizon)}</td><td>{line.n}</td><td>{line.deviance:.3f}</td>"
        f"<td>{_number(line.naive_deviance, 3)}</td><td>{line.coverage_80:.0%}</td></tr>"
        for line in scores
    )
    return (
        '<h2>Live scorecard</h2><table id="scorecard"><tr><th>Month</th><th>Claim</th><th>Horizon</th>'
        "<th>n</th><th>Poisson deviance</th><th>Best naive</th><th>80 % coverage</th></tr>"
        f"{rows}</table>"
    )


def render_page(page: Page) -> str:
    """The whole document."""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,"><title>Robberies and the weather in Buenos Aires</title>'
        f"<style>{_STYLE}</style></head><body>"
        "<h1>Robberies and the weather in Buenos Aires</h1>"
        '<p class="muted">Expected robberies per comuna for the coming days, from the weather forecast. '
        'The data: <a href="/forecast">/forecast</a>, <a href="/effects">/effects</a>, '
        '<a href="/model">/model</a>, <a href="/schema/swagger">the API</a>.</p>'
        f'<section id="forecast">{_forecast(page)}</section>'
        f'<section id="effects">{_effects(page.effects, page.effects_reason)}</section>'
        f'<section id="live">{_scorecard(page.scores, page.scores_reason)}</section>'
        f'<section id="card">{_card(page.champion, page.champion_reason)}</section>'
        "</body></html>"
    )
