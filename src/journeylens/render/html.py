"""A self-contained HTML page around the SVG: inline CSS, embedded fonts, no network."""

from __future__ import annotations

from html import escape

from journeylens.model.common import localize
from journeylens.model.journey_map import JourneyMap

_CSS = """
html,body{margin:0;background:#f4f6f9;color:#1f2933}
body{font:14px/1.4 'JL Sans','JL Sans Hebrew','Noto Sans','DejaVu Sans',sans-serif}
.bar{position:sticky;top:0;display:flex;gap:.5rem;align-items:center;padding:.5rem 1rem;
background:#fff;border-bottom:1px solid #dde2e8;z-index:1}
.bar h1{font-size:1rem;margin:0 1rem 0 0;flex:1}
.bar button{font:inherit;padding:.25rem .7rem;border:1px solid #adb5bd;border-radius:6px;
background:#fff;cursor:pointer}
.bar button:focus-visible{outline:3px solid #339af0;outline-offset:1px}
.map{overflow:auto;padding:1rem}
.map svg{display:block;background:#fff;box-shadow:0 1px 4px rgba(0,0,0,.12);
transform-origin:0 0}
[dir=rtl] .map svg{transform-origin:100% 0;margin-left:auto}
@media print{.bar{display:none}.map{padding:0;overflow:visible}}
"""

_SCRIPT = """
(function(){var s=document.querySelector('.map svg'),w=s.getAttribute('width')*1,z=1;
function set(v){z=Math.max(.2,Math.min(3,v));s.style.width=(w*z)+'px';s.style.height='auto';}
document.getElementById('zin').onclick=function(){set(z*1.25)};
document.getElementById('zout').onclick=function(){set(z/1.25)};
document.getElementById('zfit').onclick=function(){
set((document.querySelector('.map').clientWidth-32)/w)};})();
"""


def render_html(journey_map: JourneyMap, svg: str, *, fallback_language: str = "en") -> str:
    """Wrap the drawing in a page people can open from an e-mail or a shared drive."""
    language = journey_map.language
    title = escape(localize(journey_map.title, language, fallback_language))
    direction = journey_map.text_direction
    return (
        f'<!doctype html>\n<html lang="{escape(language)}" dir="{direction}">\n<head>\n'
        '<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="journeylens">\n'
        f"<title>{title}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f'<div class="bar" role="toolbar"><h1>{title}</h1>'
        '<button id="zout" type="button" aria-label="Zoom out">−</button>'
        '<button id="zfit" type="button">Fit</button>'
        '<button id="zin" type="button" aria-label="Zoom in">+</button></div>\n'
        f'<main class="map">\n{svg}</main>\n<script>{_SCRIPT}</script>\n</body>\n</html>\n'
    )
